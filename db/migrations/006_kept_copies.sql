-- Every copy mailpull keeps of a remote message, per recipient: in the built-in store, delivered to
-- a target, or held (for a target, or in quarantine). One definition for the questions "does this
-- recipient have this message already" and "how many copies of this content are kept".
-- held: a held copy still waiting for this recipient's target.
CREATE VIEW kept_copies AS
  SELECT external_account_id, delivery_generation, source_folder, source_uidvalidity, source_uid, content_hash, account_id, false AS held
    FROM deliveries
  UNION ALL
  SELECT external_account_id, delivery_generation, source_folder, source_uidvalidity, source_uid, content_hash, account_id, false
    FROM messages
  UNION ALL
  SELECT h.external_account_id, h.delivery_generation, h.source_folder, h.source_uidvalidity, h.source_uid, h.content_hash, r.account_id,
         r.state = 'pending' AND h.state = 'pending'
    FROM held_messages h LEFT JOIN held_recipients r ON r.held_message_id = h.id;
