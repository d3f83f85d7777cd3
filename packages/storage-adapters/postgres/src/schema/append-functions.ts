/**
 * Schema version 2: an append as one server-side function call, so a send costs one round trip
 * instead of about ten (issue #19).
 *
 * - `append_message` is the port's `appendMessage`: one message, the caller's recipients.
 * - `send_checked` is the port's `appendChecked` for a whole group of sends at once (the write queue
 *   collects the sends of concurrent writes): idempotency, membership and mention checks, seq and pos
 *   allocation, the rows, the counters. The search vector is the table's generated column.
 *
 * Locks, and why there are no deadlocks. A channel's row lock is taken before anything is read about
 * it, so every later statement of the function (each gets a fresh snapshot under READ COMMITTED) sees
 * the members and keys committed by whoever held the lock before. `send_checked` locks all its
 * channels first, in id order, and advances all its recipients' sync heads in one statement, in user
 * id order, at the end: a group of sends takes its locks in the same global order as a single append
 * (one channel, then heads by user id), so groups from several processes never wait on each other in
 * a cycle.
 *
 * Idempotency keys are inserted last with `ON CONFLICT DO NOTHING`. A key taken meanwhile by a
 * concurrent transaction (the same sender's same key in another channel, from another process, at the
 * same moment) raises SQLSTATE `NT001`; the adapter runs the write again and then finds the key.
 *
 * Both functions plan their statements once per connection (`plan_cache_mode = force_generic_plan`):
 * every lookup is by key, and replanning each statement on every call cost more than running it.
 */
export const APPEND_FUNCTIONS = (s: string): string => `
CREATE FUNCTION ${s}.append_message(
  p_channel text, p_id text, p_sender text, p_key text, p_kind text, p_text text, p_mentions text,
  p_mention_ids text[], p_system text, p_created_at bigint, p_users text[], p_counts bigint[]
) RETURNS TABLE (outcome text, seq bigint, user_ids text[], heads bigint[])
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
#variable_conflict use_column
DECLARE
  v_found boolean;
  v_seq bigint;
BEGIN
  PERFORM 1 FROM ${s}.channels c WHERE c.id = p_channel FOR UPDATE;
  v_found := FOUND;
  IF p_key IS NOT NULL AND EXISTS (
    SELECT 1 FROM ${s}.client_msgs k WHERE k.sender_id = p_sender AND k.client_msg_id = p_key
  ) THEN
    RETURN QUERY SELECT 'conflict'::text, NULL::bigint, NULL::text[], NULL::bigint[];
    RETURN;
  END IF;
  IF NOT v_found THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::bigint, NULL::text[], NULL::bigint[];
    RETURN;
  END IF;
  UPDATE ${s}.channels c SET last_seq = c.last_seq + 1, last_activity_at = p_created_at
   WHERE c.id = p_channel RETURNING c.last_seq INTO v_seq;
  INSERT INTO ${s}.messages (channel_id, seq, id, sender_id, client_msg_id, kind, text, mentions, system, created_at)
  VALUES (p_channel, v_seq, p_id, p_sender, p_key, p_kind, p_text, p_mentions, p_system, p_created_at);
  IF p_kind = 'text' AND cardinality(p_mention_ids) > 0 THEN
    INSERT INTO ${s}.mentions (user_id, message_id, channel_id, seq)
    SELECT DISTINCT u, p_id, p_channel, v_seq FROM unnest(p_mention_ids) AS u
    ON CONFLICT DO NOTHING;
  END IF;
  -- A user listed n times gets n positions: head - n + 1 .. head.
  RETURN QUERY
  WITH counts AS (
    SELECT u.user_id, u.n FROM unnest(p_users, p_counts) AS u (user_id, n)
  ), advanced AS (
    INSERT INTO ${s}.sync_heads AS h (user_id, head)
    SELECT c.user_id, c.n FROM counts c ORDER BY c.user_id COLLATE "C"
    ON CONFLICT (user_id) DO UPDATE SET head = h.head + excluded.head
    RETURNING h.user_id, h.head
  ), logged AS (
    INSERT INTO ${s}.sync_log (user_id, pos, channel_id, seq)
    SELECT a.user_id, a.head - c.n + k, p_channel, v_seq
      FROM advanced a JOIN counts c ON c.user_id = a.user_id
     CROSS JOIN LATERAL generate_series(1, c.n) AS k
  ), keyed AS (
    INSERT INTO ${s}.client_msgs (sender_id, client_msg_id, channel_id, seq, sender_pos)
    SELECT p_sender, p_key, p_channel, v_seq,
           coalesce((SELECT a.head - c.n + 1 FROM advanced a JOIN counts c ON c.user_id = a.user_id
                      WHERE a.user_id = p_sender), 0)
     WHERE p_key IS NOT NULL
    ON CONFLICT DO NOTHING RETURNING 1
  )
  SELECT 'appended'::text, v_seq,
         coalesce((SELECT array_agg(a.user_id ORDER BY a.user_id) FROM advanced a), '{}'),
         coalesce((SELECT array_agg(a.head ORDER BY a.user_id) FROM advanced a), '{}')
   WHERE p_key IS NULL OR EXISTS (SELECT 1 FROM keyed);
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the sender used this clientMsgId in a concurrent write' USING ERRCODE = 'NT001';
  END IF;
END
$fn$;

CREATE FUNCTION ${s}.send_checked(
  p_channels text[], p_senders text[], p_keys text[], p_ids text[], p_texts text[],
  p_mentions text[], p_created_at bigint[]
) RETURNS TABLE (
  n integer, outcome text, channel_id text, seq bigint, id text, sender_id text, client_msg_id text,
  kind text, text text, mentions text, system text, created_at bigint, sender_pos bigint,
  user_ids text[], positions bigint[]
)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
#variable_conflict use_column
DECLARE
  i integer;
  v_channel text;
  v_members text[];
  v_kept text[];
  v_seq bigint;
  -- One element per appended send ...
  a_n integer[] := '{}';
  a_seq bigint[] := '{}';
  a_mentions text[] := '{}';
  -- ... and one per (appended send, member).
  r_n integer[] := '{}';
  r_user text[] := '{}';
BEGIN
  FOR v_channel IN SELECT DISTINCT x COLLATE "C" FROM unnest(p_channels) AS x ORDER BY 1 LOOP
    PERFORM 1 FROM ${s}.channels c WHERE c.id = v_channel FOR UPDATE;
  END LOOP;

  FOR i IN 1 .. coalesce(array_length(p_channels, 1), 0) LOOP
    RETURN QUERY
    SELECT i, 'duplicate'::text, m.channel_id, m.seq, m.id::text, m.sender_id, m.client_msg_id, m.kind,
           m.text, m.mentions, m.system, m.created_at, k.sender_pos, NULL::text[], NULL::bigint[]
      FROM ${s}.client_msgs k JOIN ${s}.messages m ON m.channel_id = k.channel_id AND m.seq = k.seq
     WHERE k.sender_id = p_senders[i] AND k.client_msg_id = p_keys[i];
    CONTINUE WHEN FOUND;

    SELECT array_agg(mb.user_id) INTO v_members FROM ${s}.members mb WHERE mb.channel_id = p_channels[i];
    IF v_members IS NULL OR NOT (p_senders[i] = ANY (v_members)) THEN
      RETURN QUERY
      SELECT i, 'not_member'::text, p_channels[i], NULL::bigint, NULL::text, NULL::text, NULL::text,
             NULL::text, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::text[],
             NULL::bigint[];
      CONTINUE;
    END IF;

    IF p_mentions[i] = '[]' THEN
      v_kept := '{}';
    ELSE
      SELECT coalesce(array_agg(x.u ORDER BY x.o), '{}') INTO v_kept
        FROM json_array_elements_text(p_mentions[i]::json) WITH ORDINALITY AS x (u, o)
       WHERE x.u = ANY (v_members);
    END IF;
    UPDATE ${s}.channels c SET last_seq = c.last_seq + 1, last_activity_at = p_created_at[i]
     WHERE c.id = p_channels[i] RETURNING c.last_seq INTO v_seq;
    INSERT INTO ${s}.messages (channel_id, seq, id, sender_id, client_msg_id, kind, text, mentions, system, created_at)
    VALUES (p_channels[i], v_seq, p_ids[i], p_senders[i], p_keys[i], 'text', p_texts[i],
            to_json(v_kept)::text, NULL, p_created_at[i]);
    IF cardinality(v_kept) > 0 THEN
      INSERT INTO ${s}.mentions (user_id, message_id, channel_id, seq)
      SELECT DISTINCT u, p_ids[i], p_channels[i], v_seq FROM unnest(v_kept) AS u
      ON CONFLICT DO NOTHING;
    END IF;
    a_n := a_n || i;
    a_seq := a_seq || v_seq;
    a_mentions := a_mentions || to_json(v_kept)::text;
    r_n := r_n || array_fill(i, ARRAY[cardinality(v_members)]);
    r_user := r_user || v_members;
  END LOOP;
  IF cardinality(a_n) = 0 THEN
    RETURN;
  END IF;

  -- Positions: each member's head advanced once for the whole group (heads locked in user id order),
  -- the group's entries of one user numbered in send order.
  RETURN QUERY
  WITH r AS (
    SELECT u.n, u.user_id, row_number() OVER (PARTITION BY u.user_id ORDER BY u.n) AS k
      FROM unnest(r_n, r_user) AS u (n, user_id)
  ), a AS (
    SELECT * FROM unnest(a_n, a_seq, a_mentions) AS a (n, seq, mentions)
  ), counts AS (
    SELECT r.user_id, count(*) AS added FROM r GROUP BY r.user_id
  ), advanced AS (
    INSERT INTO ${s}.sync_heads AS h (user_id, head)
    SELECT c.user_id, c.added FROM counts c ORDER BY c.user_id COLLATE "C"
    ON CONFLICT (user_id) DO UPDATE SET head = h.head + excluded.head
    RETURNING h.user_id, h.head
  ), placed AS (
    SELECT r.n, r.user_id, adv.head - c.added + r.k AS pos
      FROM r JOIN advanced adv ON adv.user_id = r.user_id JOIN counts c ON c.user_id = r.user_id
  ), logged AS (
    INSERT INTO ${s}.sync_log (user_id, pos, channel_id, seq)
    SELECT p.user_id, p.pos, p_channels[p.n], a.seq FROM placed p JOIN a ON a.n = p.n
  ), keyed AS (
    INSERT INTO ${s}.client_msgs (sender_id, client_msg_id, channel_id, seq, sender_pos)
    SELECT p_senders[a.n], p_keys[a.n], p_channels[a.n], a.seq, p.pos
      FROM a JOIN placed p ON p.n = a.n AND p.user_id = p_senders[a.n]
    ON CONFLICT DO NOTHING RETURNING 1
  )
  SELECT a.n, 'appended'::text, p_channels[a.n], a.seq, p_ids[a.n], p_senders[a.n], p_keys[a.n],
         'text'::text, p_texts[a.n], a.mentions, NULL::text, p_created_at[a.n],
         max(p.pos) FILTER (WHERE p.user_id = p_senders[a.n]),
         array_agg(p.user_id ORDER BY p.user_id COLLATE "C"), array_agg(p.pos ORDER BY p.user_id COLLATE "C")
    FROM a JOIN placed p ON p.n = a.n
   WHERE (SELECT count(*) FROM keyed) = cardinality(a_n)
   GROUP BY a.n, a.seq, a.mentions;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'a concurrent write used the same clientMsgId' USING ERRCODE = 'NT001';
  END IF;
END
$fn$;
`;
