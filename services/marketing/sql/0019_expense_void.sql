-- A void adds a reversing entry (negative amount, voids = the expense it
-- cancels) instead of changing the ledger; an expense is voided once.
ALTER TABLE expense ADD COLUMN voids uuid UNIQUE REFERENCES expense;
ALTER TABLE expense DROP CONSTRAINT expense_amount_minor_check;
ALTER TABLE expense ADD CONSTRAINT expense_amount_minor_check
    CHECK (amount_minor > 0 OR (voids IS NOT NULL AND amount_minor < 0));
