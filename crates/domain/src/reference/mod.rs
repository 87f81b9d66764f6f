//! Reference data shipped with the platform, typed and checked (`data`).

pub mod data;

/// The 12 county-level units of the city (GB/T 2260 370102–370126), as they appear in addresses
/// and registers.
pub const DISTRICTS: [&str; 12] = [
    "历下区",
    "市中区",
    "槐荫区",
    "天桥区",
    "历城区",
    "长清区",
    "章丘区",
    "济阳区",
    "莱芜区",
    "钢城区",
    "平阴县",
    "商河县",
];
