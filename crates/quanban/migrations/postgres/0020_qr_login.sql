-- 扫码登录: a kiosk shows a QR code; the person opens it on their phone, where they are signed in,
-- and confirms; the kiosk is then signed in as them. The id is what the QR code carries (128
-- random bits); the kiosk polls and signs in with its own secret, of which only a digest is
-- kept. A request lives two minutes from created_at and signs in once (status, version).
CREATE TABLE qr_logins (
    id          TEXT PRIMARY KEY,
    poll_digest TEXT NOT NULL,
    kiosk_id    TEXT NOT NULL REFERENCES kiosks(id),
    -- pending | approved | cancelled | used
    status      TEXT NOT NULL,
    user_id     TEXT REFERENCES users(id),
    created_at  TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
