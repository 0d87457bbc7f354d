-- Locks a message row, then reads it and its recipients (position order), in one
-- round trip (src/db/repositories/messages.ts lockMessageWithRecipients, for
-- src/core/transition.ts). Two statements inside, on purpose: under READ
-- COMMITTED a statement that waited for the row lock still reads other tables
-- with the snapshot it began with, so recipients read by the locking statement
-- could miss what the transaction it waited for committed. A VOLATILE function
-- takes a new snapshot for each statement it runs, so the second one sees it.
-- NULL when there is no such message.
CREATE FUNCTION sealpost_lock_message(locked_id uuid) RETURNS json
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM 1 FROM messages WHERE id = locked_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  RETURN (
    SELECT json_build_object(
             'message', m,
             'recipients', (SELECT coalesce(json_agg(r ORDER BY r.position), '[]'::json) FROM recipients r WHERE r.message_id = m.id))
      FROM messages m
     WHERE m.id = locked_id);
END;
$$;
