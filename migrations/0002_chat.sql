-- Conversations and messages, walled off per user twice: every query filters by user id, and
-- row-level security (forced, so even the owner obeys it) admits only rows whose user_id equals
-- the transaction's `app.user_id` setting. The server runs its queries as `chatkeep_app`, a
-- role that owns nothing and cannot bypass RLS; these migrations run as the owner.
--
-- Constraint names are explicit: the API maps them to errors by name.

create table conversation (
    id uuid primary key,
    user_id text not null,
    title text,
    pinned boolean not null default false,
    archived_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    last_message_at timestamptz not null default now(),
    constraint conversation_user_fkey foreign key (user_id) references "user" (id) on delete cascade,
    constraint conversation_title_length check (char_length(title) between 1 and 200),
    -- The target of message's composite key: (id, user_id) pins a message to its owner's conversation.
    constraint conversation_id_user_key unique (id, user_id)
);

-- The history sidebar: newest activity first, keyset-paged.
create index conversation_user_activity_idx on conversation (user_id, last_message_at desc, id desc);

create table message (
    id uuid primary key,
    conversation_id uuid not null,
    user_id text not null,
    -- The message this one answers or follows; siblings share a parent (regenerated answers).
    parent_id uuid,
    role text not null,
    content text not null default '',
    selected_text text,
    sources jsonb not null default '[]',
    status text not null,
    finish_reason text,
    error text,
    usage jsonb,
    client_id text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    search tsvector generated always as (to_tsvector('simple', content)) stored,
    constraint message_conversation_fkey foreign key (conversation_id, user_id)
        references conversation (id, user_id) on delete cascade,
    constraint message_id_conversation_key unique (id, conversation_id),
    constraint message_parent_fkey foreign key (parent_id, conversation_id)
        references message (id, conversation_id) on delete cascade,
    constraint message_role_check check (role in ('user', 'assistant')),
    constraint message_status_check check (status in ('streaming', 'complete', 'stopped', 'error')),
    constraint message_client_id_length check (char_length(client_id) between 1 and 100)
);

-- A retried POST carries the same client id: at most one user message per (conversation, id).
create unique index message_client_id_key on message (conversation_id, client_id)
    where client_id is not null;
-- A conversation's messages, newest first, keyset-paged.
create index message_conversation_time_idx on message (conversation_id, created_at desc, id desc);
create index message_search_idx on message using gin (search);
-- The sweeper finds answers a crashed process left streaming.
create index message_streaming_idx on message (updated_at) where status = 'streaming';

alter table conversation enable row level security;
alter table conversation force row level security;
create policy conversation_owner on conversation
    using (user_id = current_setting('app.user_id', true))
    with check (user_id = current_setting('app.user_id', true));

alter table message enable row level security;
alter table message force row level security;
create policy message_owner on message
    using (user_id = current_setting('app.user_id', true))
    with check (user_id = current_setting('app.user_id', true));

-- The built-in agent's corpus: Markdown sections, full-text indexed. Not user data: no RLS.
create table doc_chunk (
    id bigint generated always as identity primary key,
    source text not null,
    heading text not null,
    content text not null,
    search tsvector generated always as (
        setweight(to_tsvector('english', heading), 'A') || setweight(to_tsvector('english', content), 'B')
    ) stored
);
create index doc_chunk_search_idx on doc_chunk using gin (search);

-- One row: the hash of the corpus that doc_chunk holds, so startup re-indexes only on change.
create table doc_corpus (
    singleton boolean primary key default true check (singleton),
    hash text not null,
    indexed_at timestamptz not null default now()
);

-- The application role. Cluster-wide, so it may exist already (another Chatkeep database on the
-- same server); two databases migrating at once may race to create it.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'chatkeep_app') then
        create role chatkeep_app nologin nosuperuser nobypassrls noinherit;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$;

do $$
begin
    -- The migrating role must be able to `SET ROLE chatkeep_app` on its own connections.
    execute format('grant chatkeep_app to %I', current_user);
exception when others then
    -- Already a member, or a superuser (who needs no grant).
    null;
end
$$;

grant usage on schema public to chatkeep_app;
grant select, insert, update, delete on "user", session, account, verification, jwks to chatkeep_app;
grant select, insert, update, delete on conversation, message to chatkeep_app;
grant select, insert, update, delete on doc_chunk, doc_corpus to chatkeep_app;
grant select on _sqlx_migrations to chatkeep_app;
