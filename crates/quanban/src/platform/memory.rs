//! The process's resident memory, for the commands and benchmarks that report it.

/// (resident now, peak resident) in MiB, from `/proc/self/status` (0 where it cannot be read).
pub fn resident_mb() -> (f64, f64) {
    resident_mb_of_status("/proc/self/status")
}

/// (resident now, peak resident) in MiB of the process `pid` (a benchmark's server child).
pub fn resident_mb_of(pid: u32) -> (f64, f64) {
    resident_mb_of_status(&format!("/proc/{pid}/status"))
}

fn resident_mb_of_status(path: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(path).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kb("VmRSS:") / 1024.0, kb("VmHWM:") / 1024.0)
}
