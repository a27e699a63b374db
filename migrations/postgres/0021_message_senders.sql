-- Who sent each outbound text (issue 15, "who did what"): the key (or `system`) and the
-- person it acted for, from the metadata of the text's OutboundQueued. Texts from before
-- this migration show neither; their events still name the key.
ALTER TABLE messaging_messages ADD COLUMN sent_by TEXT;
ALTER TABLE messaging_messages ADD COLUMN on_behalf_of TEXT;
