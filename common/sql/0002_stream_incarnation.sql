-- Which database this stream last ran on: "<database oid>:<cluster system
-- identifier>:<timeline>". A restore (pg_restore into a new database, a new
-- cluster, or point-in-time recovery, which starts a new timeline) changes
-- it, and the service then starts a new stream epoch by itself.
ALTER TABLE crm_stream ADD COLUMN incarnation text;
