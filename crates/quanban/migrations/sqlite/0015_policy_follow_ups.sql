-- 跟踪问效: after a benefit is paid, the enterprise's representative rates it and says what it
-- achieved (once per benefit). The issuing department reads them on the policy page.
CREATE TABLE policy_follow_ups (
    policy         TEXT NOT NULL,
    credit_code    TEXT NOT NULL,
    rating         BIGINT NOT NULL,
    effect         TEXT NOT NULL,
    jobs           BIGINT,
    recorded_by    TEXT NOT NULL,
    recorded_at    TEXT NOT NULL,
    PRIMARY KEY (policy, credit_code)
);
