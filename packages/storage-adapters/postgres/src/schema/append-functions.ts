/** The parameters of `append_group` (parallel arrays, one element per append); `append_group_alone` ends with them. */
const GROUP_PARAMETERS = `
  p_checked boolean[], p_channels text[], p_ids text[], p_senders text[], p_keys text[], p_kinds text[],
  p_texts text[], p_mentions text[], p_systems text[], p_created_at bigint[], p_recipients text[]`.slice(1);

/** The rows `append_group` and `append_group_alone` return, one per append. */
const GROUP_RESULT = `
  n integer, outcome text, channel_id text, seq bigint, id text, sender_id text, client_msg_id text,
  kind text, text text, mentions text, system text, created_at bigint, sender_pos bigint,
  user_ids text[], positions bigint[]`.slice(1);

/**
 * Schema version 2: appends as one server-side function call, so a send costs one round trip instead
 * of about ten, and a batch of appends costs one statement (issue #19).
 *
 * `append_group` takes a group of appends in parallel arrays, one element each, and runs them in
 * order, as if one after another in the same transaction. An element is either
 * - **checked** (`WriteTransaction.appendChecked`, a user's send): a key the sender used before gives
 *   `duplicate` (with the earlier message and the sender's position); a sender who is not a member
 *   gives `not_member`; otherwise the message goes to every member, mentions kept for members only; or
 * - **plain** (`WriteTransaction.appendMessage`): a used key gives `conflict`, a missing channel
 *   `not_found`; otherwise the message goes to the given recipients (a user listed n times gets n
 *   entries), mentions as given.
 * Seqs, positions, the message rows, mentions, sync-log entries, idempotency keys and counters are
 * written for every element that is `appended`; the search vector is the table's generated column.
 *
 * Locks, and why there are no deadlocks. All the group's channel rows are locked first, in id order,
 * before anything is read about them, so every later statement (each gets a fresh snapshot under READ
 * COMMITTED) sees the members and keys committed by whoever held a lock before. All recipients' sync
 * heads are advanced at the end in one statement, in user id order. A group thus takes its locks in
 * the same global order as a single append (channels by id, then heads by user id), and groups from
 * several processes never wait on each other in a cycle.
 *
 * Idempotency keys are inserted last with `ON CONFLICT DO NOTHING`. A key taken meanwhile by a
 * concurrent transaction (the same sender's same key in another channel, from another process, at the
 * same moment) raises SQLSTATE `NT001`; the adapter runs the write again and then finds the key. The
 * caller splits a group where a sender's key repeats, so keys within one call are distinct.
 *
 * Statements are planned once per connection (`plan_cache_mode = force_generic_plan`): every lookup
 * is by key, and replanning each statement on every call cost more than running it.
 */
export const APPEND_FUNCTIONS = (s: string): string => `
CREATE FUNCTION ${s}.append_group(
${GROUP_PARAMETERS}
) RETURNS TABLE (
${GROUP_RESULT}
)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
#variable_conflict use_column
DECLARE
  i integer;
  v_channel text;
  v_existing text[] := '{}';
  v_members text[];
  v_recipients text[];
  v_mentions text[];
  v_stored text;
  v_seq bigint;
  -- One element per appended message ...
  a_n integer[] := '{}';
  a_seq bigint[] := '{}';
  a_mentions text[] := '{}';
  -- ... and one per (appended message, recipient), in recipient order.
  r_n integer[] := '{}';
  r_user text[] := '{}';
  -- How many appended messages carry an idempotency key.
  v_keys integer := 0;
BEGIN
  FOR v_channel IN SELECT DISTINCT x COLLATE "C" FROM unnest(p_channels) AS x ORDER BY 1 LOOP
    PERFORM 1 FROM ${s}.channels c WHERE c.id = v_channel FOR UPDATE;
    IF FOUND THEN
      v_existing := v_existing || v_channel;
    END IF;
  END LOOP;

  FOR i IN 1 .. coalesce(array_length(p_channels, 1), 0) LOOP
    IF p_keys[i] IS NOT NULL THEN
      IF p_checked[i] THEN
        RETURN QUERY
        SELECT i, 'duplicate'::text, m.channel_id, m.seq, m.id::text, m.sender_id, m.client_msg_id, m.kind,
               m.text, m.mentions, m.system, m.created_at, k.sender_pos, NULL::text[], NULL::bigint[]
          FROM ${s}.client_msgs k JOIN ${s}.messages m ON m.channel_id = k.channel_id AND m.seq = k.seq
         WHERE k.sender_id = p_senders[i] AND k.client_msg_id = p_keys[i];
        CONTINUE WHEN FOUND;
      ELSIF EXISTS (
        SELECT 1 FROM ${s}.client_msgs k WHERE k.sender_id = p_senders[i] AND k.client_msg_id = p_keys[i]
      ) THEN
        RETURN QUERY SELECT i, 'conflict'::text, p_channels[i], NULL::bigint, NULL::text, NULL::text,
          NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::bigint,
          NULL::text[], NULL::bigint[];
        CONTINUE;
      END IF;
    END IF;

    IF p_checked[i] THEN
      SELECT array_agg(mb.user_id ORDER BY mb.user_id COLLATE "C") INTO v_members
        FROM ${s}.members mb WHERE mb.channel_id = p_channels[i];
      IF v_members IS NULL OR NOT (p_senders[i] = ANY (v_members)) THEN
        RETURN QUERY SELECT i, 'not_member'::text, p_channels[i], NULL::bigint, NULL::text, NULL::text,
          NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::bigint,
          NULL::text[], NULL::bigint[];
        CONTINUE;
      END IF;
      v_recipients := v_members;
      IF p_mentions[i] = '[]' THEN
        v_mentions := '{}';
      ELSE
        SELECT coalesce(array_agg(x.u ORDER BY x.o), '{}') INTO v_mentions
          FROM json_array_elements_text(p_mentions[i]::json) WITH ORDINALITY AS x (u, o)
         WHERE x.u = ANY (v_members);
      END IF;
      v_stored := to_json(v_mentions)::text;
    ELSE
      IF NOT (p_channels[i] = ANY (v_existing)) THEN
        RETURN QUERY SELECT i, 'not_found'::text, p_channels[i], NULL::bigint, NULL::text, NULL::text,
          NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::bigint,
          NULL::text[], NULL::bigint[];
        CONTINUE;
      END IF;
      SELECT coalesce(array_agg(x.u ORDER BY x.o), '{}') INTO v_recipients
        FROM json_array_elements_text(p_recipients[i]::json) WITH ORDINALITY AS x (u, o);
      v_stored := p_mentions[i];
      IF p_kinds[i] = 'text' AND p_mentions[i] <> '[]' THEN
        SELECT coalesce(array_agg(x.u), '{}') INTO v_mentions FROM json_array_elements_text(p_mentions[i]::json) AS x (u);
      ELSE
        v_mentions := '{}';
      END IF;
    END IF;

    UPDATE ${s}.channels c SET last_seq = c.last_seq + 1, last_activity_at = p_created_at[i]
     WHERE c.id = p_channels[i] RETURNING c.last_seq INTO v_seq;
    INSERT INTO ${s}.messages (channel_id, seq, id, sender_id, client_msg_id, kind, text, mentions, system, created_at)
    VALUES (p_channels[i], v_seq, p_ids[i], p_senders[i], p_keys[i], p_kinds[i], p_texts[i], v_stored,
            p_systems[i], p_created_at[i]);
    IF cardinality(v_mentions) > 0 THEN
      INSERT INTO ${s}.mentions (user_id, message_id, channel_id, seq)
      SELECT DISTINCT u, p_ids[i], p_channels[i], v_seq FROM unnest(v_mentions) AS u
      ON CONFLICT DO NOTHING;
    END IF;
    a_n := a_n || i;
    a_seq := a_seq || v_seq;
    IF p_keys[i] IS NOT NULL THEN
      v_keys := v_keys + 1;
    END IF;
    a_mentions := a_mentions || v_stored;
    r_n := r_n || array_fill(i, ARRAY[cardinality(v_recipients)]);
    r_user := r_user || v_recipients;
  END LOOP;
  IF cardinality(a_n) = 0 THEN
    RETURN;
  END IF;

  -- Positions: each recipient's head advanced once for the whole group (heads locked in user id
  -- order); a user's entries numbered in append order, then recipient order.
  RETURN QUERY
  WITH r AS (
    SELECT u.n, u.o, u.user_id, row_number() OVER (PARTITION BY u.user_id ORDER BY u.o) AS k
      FROM unnest(r_n, r_user) WITH ORDINALITY AS u (n, user_id, o)
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
    SELECT r.n, r.o, r.user_id, adv.head - c.added + r.k AS pos
      FROM r JOIN advanced adv ON adv.user_id = r.user_id JOIN counts c ON c.user_id = r.user_id
  ), logged AS (
    INSERT INTO ${s}.sync_log (user_id, pos, channel_id, seq)
    SELECT p.user_id, p.pos, p_channels[p.n], a.seq FROM placed p JOIN a ON a.n = p.n
  ), senders AS (
    -- The sender's position: their first entry of the message, 0 when they are no recipient.
    SELECT p.n, min(p.pos) AS pos FROM placed p WHERE p.user_id = p_senders[p.n] GROUP BY p.n
  ), keyed AS (
    INSERT INTO ${s}.client_msgs (sender_id, client_msg_id, channel_id, seq, sender_pos)
    SELECT p_senders[a.n], p_keys[a.n], p_channels[a.n], a.seq, coalesce(sp.pos, 0)
      FROM a LEFT JOIN senders sp ON sp.n = a.n
     WHERE p_keys[a.n] IS NOT NULL
    ON CONFLICT DO NOTHING RETURNING 1
  ), lists AS (
    SELECT p.n, array_agg(p.user_id ORDER BY p.o) AS user_ids, array_agg(p.pos ORDER BY p.o) AS positions
      FROM placed p GROUP BY p.n
  )
  SELECT a.n, 'appended'::text, p_channels[a.n], a.seq, p_ids[a.n], p_senders[a.n], p_keys[a.n],
         p_kinds[a.n], p_texts[a.n], a.mentions, p_systems[a.n], p_created_at[a.n], coalesce(sp.pos, 0),
         coalesce(l.user_ids, '{}'), coalesce(l.positions, '{}')
    FROM a LEFT JOIN senders sp ON sp.n = a.n LEFT JOIN lists l ON l.n = a.n
   WHERE (SELECT count(*) FROM keyed) = v_keys;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'a concurrent write used the same clientMsgId' USING ERRCODE = 'NT001';
  END IF;
END
$fn$;
`;

/**
 * Schema version 8: `append_group_alone` runs `append_group` as a statement of its own, outside any
 * explicit transaction, so a group of lone sends (the core's `appendOnly` writes) costs one round trip
 * instead of three (BEGIN, the call, COMMIT). It first takes what the adapter's BEGIN takes: the
 * store's write lock, shared (a group takes its locks in the global order, see above), and the
 * `synchronous_commit` option for this transaction when one is set. The statement's implicit
 * transaction commits when it returns, so the acknowledgement still follows a durable commit; an
 * error rolls the whole group back.
 */
export const APPEND_ALONE_FUNCTION = (s: string): string => `
CREATE FUNCTION ${s}.append_group_alone(
  p_lock_class integer, p_lock_objid integer, p_synchronous_commit text,
${GROUP_PARAMETERS}
) RETURNS TABLE (
${GROUP_RESULT}
)
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(p_lock_class, p_lock_objid);
  IF p_synchronous_commit IS NOT NULL THEN
    PERFORM set_config('synchronous_commit', p_synchronous_commit, true);
  END IF;
  RETURN QUERY SELECT * FROM ${s}.append_group(p_checked, p_channels, p_ids, p_senders, p_keys, p_kinds,
    p_texts, p_mentions, p_systems, p_created_at, p_recipients);
END
$fn$;
`;
