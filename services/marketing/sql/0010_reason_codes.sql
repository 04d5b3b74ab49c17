-- The kind of a send decision's reason, as a stable code beside its text
-- (which carries ids, counts and times): excluded_segment, opted_out,
-- no_address, frequency_cap, outside_contact_window; empty for a message
-- sent. Set by the send scan from now on (mkt_contact_t.code); decisions
-- made before this migration get theirs from their text, once.
ALTER TABLE send ADD COLUMN reason_code text NOT NULL DEFAULT '';
UPDATE send SET reason_code = CASE
        WHEN reason LIKE 'excluded_segment%' THEN 'excluded_segment'
        WHEN reason LIKE 'opted out of%' THEN 'opted_out'
        WHEN reason LIKE 'no email address%' THEN 'no_address'
        WHEN reason LIKE 'frequency cap%' THEN 'frequency_cap'
        WHEN reason LIKE 'outside the contact window%' THEN 'outside_contact_window'
        ELSE '' END
 WHERE status <> 1;
