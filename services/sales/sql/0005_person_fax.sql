-- A person's fax number (normalised like phones), carried in the person
-- events so that marketing's fax campaigns reach it; none: a fax send is
-- suppressed no_address. The postal address is the existing `address`.
ALTER TABLE person ADD COLUMN fax text NOT NULL DEFAULT '';
