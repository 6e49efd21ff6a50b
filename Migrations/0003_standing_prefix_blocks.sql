-- 0003: a prefix revocation without issued_before is a standing block (docs/api.md): it refuses
-- every link under the prefix, including links issued after it was made, until an admin lifts it
-- (DELETE /v1/revocations/{serial}). Daemons before this migration gave such rows a live_until and
-- collected them; from now on they have none and are never collected.
UPDATE revocation SET live_until = NULL WHERE prefix IS NOT NULL AND issued_before IS NULL;
