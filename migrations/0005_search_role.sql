-- Search through the GIN index under row-level security. PostgreSQL evaluates a policy's
-- condition before any condition of the query that is not leakproof, and `@@` is not, so for
-- the application role the index could only narrow by user and every one of a user's messages
-- was read and matched (a full scan of a heavy user's history). Searches therefore run as
-- `chatkeep_search`, for which a restrictive policy adds the match itself: both conditions
-- are then the policy's, and one GIN scan over (user_id, search) answers them. The query is
-- the transaction's `app.search_query` setting; without it the role sees no message at all.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'chatkeep_search') then
        create role chatkeep_search nologin nosuperuser nobypassrls noinherit;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$;

do $$
begin
    execute format('grant chatkeep_search to %I', current_user);
exception when others then
    null;
end
$$;

-- The server switches to it (SET LOCAL ROLE) inside a search transaction.
grant chatkeep_search to chatkeep_app;
grant usage on schema public to chatkeep_search;
grant select on conversation, message, message_feedback to chatkeep_search;

create policy message_search_match on message as restrictive for select to chatkeep_search
    using (search @@ current_setting('app.search_query', true)::tsquery);

-- A user's messages newest first. For a user with a short history (nearly everyone) the
-- planner reads their messages through it and matches each, which beats walking the GIN
-- posting lists of common words and prefixes across every user; for a long history it yields
-- the newest matches first, so ranking the newest ones stops early.
create index message_user_time_idx on message (user_id, created_at desc, id desc);
