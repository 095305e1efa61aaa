-- History that people own: search, feedback, imports, and the branch a conversation shows.
-- New tables get forced row-level security like conversation and message.

-- A GIN index over (user_id, tsvector) needs btree_gin's operator classes for text. It is a
-- trusted extension: a database owner without superuser may create it.
create extension if not exists btree_gin;

-- Search: English stemming (so "running" finds "runs") plus the words as written (so words
-- of other languages, and English stop words, are still found). The server re-generates these
-- columns in another language when SEARCH_LANGUAGE names one (see backend/src/search/language.rs).
drop index message_search_idx;
alter table message drop column search;
-- `<` and `>` are indexed as separators (two private-use characters stand in for them):
-- PostgreSQL's parser would otherwise take `<div class="x">` or `<script>...</script>` in a
-- code sample for markup and drop the words inside.
alter table message add column search tsvector generated always as (
    to_tsvector('english'::regconfig, translate(content, '<>', chr(57346) || chr(57347)))
    || to_tsvector('simple'::regconfig, translate(content, '<>', chr(57346) || chr(57347)))
) stored;
-- One index answers "this user's messages matching the query": both keys in one GIN scan.
create index message_search_idx on message using gin (user_id, search);

alter table conversation add column title_search tsvector generated always as (
    to_tsvector('english'::regconfig, translate(coalesce(title, ''), '<>', chr(57346) || chr(57347)))
    || to_tsvector('simple'::regconfig, translate(coalesce(title, ''), '<>', chr(57346) || chr(57347)))
) stored;
create index conversation_title_search_idx on conversation using gin (user_id, title_search);

-- Deleting a message cascades to its children through message_parent_fkey: without this index
-- every deleted message would scan its conversation for children. It also finds an answer's
-- siblings.
create index message_parent_idx on message (parent_id, conversation_id);

-- Where a conversation came from, when it was imported: importing the same file twice adds
-- nothing, because the source's own conversation id is remembered here.
alter table conversation add column import_source text;
alter table conversation add column import_key text;
alter table conversation add constraint conversation_import_check
    check ((import_source is null) = (import_key is null));
create unique index conversation_import_key on conversation (user_id, import_source, import_key)
    where import_key is not null;

-- The leaf of the branch last viewed (for an import, ChatGPT's current_node).
alter table conversation add column active_message_id uuid;
alter table conversation add constraint conversation_active_message_fkey
    foreign key (active_message_id, id) references message (id, conversation_id)
    on delete set null (active_message_id);

-- Thumbs up or down on an answer, with an optional reason. One per message.
create table message_feedback (
    message_id uuid primary key,
    conversation_id uuid not null,
    user_id text not null,
    rating text not null,
    reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint message_feedback_message_fkey foreign key (message_id, conversation_id)
        references message (id, conversation_id) on delete cascade,
    constraint message_feedback_conversation_fkey foreign key (conversation_id, user_id)
        references conversation (id, user_id) on delete cascade,
    constraint message_feedback_rating_check check (rating in ('up', 'down')),
    constraint message_feedback_reason_length check (char_length(reason) between 1 and 2000)
);
-- Serves the cascade when a conversation is deleted.
create index message_feedback_conversation_idx on message_feedback (conversation_id);

alter table message_feedback enable row level security;
alter table message_feedback force row level security;
create policy message_feedback_owner on message_feedback
    using (user_id = current_setting('app.user_id', true))
    with check (user_id = current_setting('app.user_id', true));

grant select, insert, update, delete on message_feedback to chatkeep_app;
