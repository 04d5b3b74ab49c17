-- A response from someone the campaign never targeted is kept as
-- unsolicited: recording it enrols nobody, and it counts in no rate.
ALTER TABLE response ADD COLUMN unsolicited boolean NOT NULL DEFAULT false;
