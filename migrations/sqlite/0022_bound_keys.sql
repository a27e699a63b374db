-- An advocate key may be bound to one advocate (issue 15): it then sees and texts only the
-- cases that list them. NULL: the key sees its whole tenant, as every key did before.
ALTER TABLE gateway_api_keys ADD COLUMN advocate_id TEXT;
