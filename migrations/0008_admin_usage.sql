-- What administrators see of each user: numbers, never content. Counting across users needs rows
-- that row-level security keeps from the application role, administrators' requests included,
-- so one function counts them and returns counts and sizes only. It runs as `chatkeep_steward`,
-- a role that cannot log in, that no other role can become but the migrating one, and that sees
-- conversation and message rows only through the policies below; the application role may call
-- the function and nothing else of it.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'chatkeep_steward') then
        create role chatkeep_steward nologin nosuperuser nobypassrls noinherit;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$;

do $$
begin
    execute format('grant chatkeep_steward to %I', current_user);
exception when others then
    null;
end
$$;

grant usage, create on schema public to chatkeep_steward;
grant select on conversation, message to chatkeep_steward;
create policy conversation_steward_counts on conversation for select to chatkeep_steward using (true);
create policy message_steward_counts on message for select to chatkeep_steward using (true);

-- Per user of `ids`: conversations, messages, the bytes their messages hold (as
-- USER_MAX_STORED_BYTES counts them), questions asked since midnight UTC, and the last message.
create function admin_user_usage(ids text[])
returns table (
    user_id text,
    conversations bigint,
    messages bigint,
    stored_bytes bigint,
    questions_today bigint,
    last_message_at timestamptz
)
language sql stable security definer
set search_path = public, pg_temp
as $$
    select u.id,
           (select count(*) from conversation c where c.user_id = u.id),
           m.messages,
           m.stored_bytes,
           m.questions_today,
           m.last_message_at
      from unnest(ids) as u(id)
      cross join lateral (
          select count(*) as messages,
                 coalesce(sum(octet_length(content)
                              + coalesce(octet_length(selected_text), 0)
                              + coalesce(octet_length(error), 0)
                              + case when jsonb_array_length(sources) > 0
                                     then octet_length(sources::text) else 0 end), 0)::int8
                     as stored_bytes,
                 count(*) filter (where role = 'user'
                                  and created_at >= date_trunc('day', now() at time zone 'utc')
                                                    at time zone 'utc') as questions_today,
                 max(created_at) as last_message_at
            from message
           where message.user_id = u.id
      ) m
$$;
alter function admin_user_usage(text[]) owner to chatkeep_steward;
revoke all on function admin_user_usage(text[]) from public;
grant execute on function admin_user_usage(text[]) to chatkeep_app;
