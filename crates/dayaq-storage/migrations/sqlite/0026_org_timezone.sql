-- Issue #23 §4: the organisation's time zone (an IANA name of the tz database). Instants stay
-- stored in UTC; screens show them in this zone and read local times typed in forms in it.
-- Keep in step with the other engine's 0026_org_timezone.sql.
ALTER TABLE organisations ADD COLUMN timezone TEXT NOT NULL DEFAULT 'Asia/Baku';
