/**
 * Schema version 6: the message lifecycle (issue #24). Edits and deletes each run as one function call,
 * so a mutation costs a round trip per step of the core's rules instead of one per statement, and the
 * statements inside run in order, each seeing the ones before (a data-modifying CTE would not: a mention
 * deleted and inserted again in one statement would be lost).
 *
 * Both functions expect the caller to hold the channel's row lock (the adapter's lifecycle `getMessage`
 * takes it): every change to a message row happens under its channel's lock, so an edit racing a delete
 * reads the tombstone and is refused instead of resurrecting the text.
 *
 * `erase_message` leaves no live copy of the content: the text, mentions and attachments are emptied
 * (the generated search vector with them), the mention rows and reactions are deleted. The old row
 * version stays in the heap as a dead tuple until VACUUM, and the index keys of its words stay in the
 * GIN index until it is rebuilt: see docs/adapters.md ("What a delete erases") and decision 110.
 */
export const LIFECYCLE_FUNCTIONS = (s: string): string => `
CREATE FUNCTION ${s}.edit_message(
  p_channel text, p_seq bigint, p_text text, p_mentions text, p_edited_at bigint, p_version integer
) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
  v_id text;
  v_old text;
BEGIN
  SELECT m.id, m.mentions INTO v_id, v_old FROM ${s}.messages m WHERE m.channel_id = p_channel AND m.seq = p_seq;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'message %/% does not exist', p_channel, p_seq;
  END IF;
  IF v_old <> '[]' THEN
    DELETE FROM ${s}.mentions x
     WHERE x.user_id IN (SELECT json_array_elements_text(v_old::json)) AND x.message_id = v_id;
  END IF;
  UPDATE ${s}.messages m SET text = p_text, mentions = p_mentions, edited_at = p_edited_at, version = p_version
   WHERE m.channel_id = p_channel AND m.seq = p_seq;
  IF p_mentions <> '[]' THEN
    INSERT INTO ${s}.mentions (user_id, message_id, channel_id, seq)
    SELECT DISTINCT u, v_id, p_channel, p_seq FROM json_array_elements_text(p_mentions::json) AS u
    ON CONFLICT DO NOTHING;
  END IF;
END
$fn$;

CREATE FUNCTION ${s}.erase_message(p_channel text, p_seq bigint, p_deleted_at bigint, p_deleted_by text)
RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
  v_id text;
  v_old text;
BEGIN
  SELECT m.id, m.mentions INTO v_id, v_old FROM ${s}.messages m WHERE m.channel_id = p_channel AND m.seq = p_seq;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'message %/% does not exist', p_channel, p_seq;
  END IF;
  -- Mention rows are exactly the stored mentions (appends and edits insert those), found by primary key.
  IF v_old <> '[]' THEN
    DELETE FROM ${s}.mentions x
     WHERE x.user_id IN (SELECT json_array_elements_text(v_old::json)) AND x.message_id = v_id;
  END IF;
  DELETE FROM ${s}.reactions r WHERE r.channel_id = p_channel AND r.seq = p_seq;
  UPDATE ${s}.messages m SET text = '', mentions = '[]', attachments = NULL, edited_at = NULL, version = NULL,
         deleted_at = p_deleted_at, deleted_by = p_deleted_by
   WHERE m.channel_id = p_channel AND m.seq = p_seq;
END
$fn$;
`;
