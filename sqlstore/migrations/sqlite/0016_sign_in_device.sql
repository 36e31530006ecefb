-- Every sign-in records the known device it was made through (the device's
-- id, which stays across the rotations of its cookie; '' for none), so that
-- a password change made through it spares that device and deletes the
-- user's others. A sign-in made before this migration names no device: a
-- change made through it deletes every device of the user.
ALTER TABLE pbxauth_families ADD COLUMN device_id TEXT NOT NULL DEFAULT '';
