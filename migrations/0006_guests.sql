-- Guests (Better Auth's anonymous plugin): a user row marked "isAnonymous", added the way Better
-- Auth adds the column to an existing table (nullable, default false), so a Better Auth server
-- with or without the plugin accepts this schema.
alter table "user" add column if not exists "isAnonymous" boolean default false;

-- When a guest signs up or signs in, their conversations move to that account in one statement:
-- `UPDATE conversation SET user_id = <account>` with the transaction's `app.user_id` set to the
-- account and `app.adopt_from` to the guest. The policies below let that update see and change
-- the guest's rows (an UPDATE reads through the SELECT policies too), and the owner policy
-- checks the new value is the account. The server sets `app.adopt_from` only for a session it
-- has just seen to be a guest's, and only for that statement.
create policy conversation_adopt_read on conversation for select
    using (user_id = current_setting('app.adopt_from', true));
create policy conversation_adopt on conversation for update
    using (user_id = current_setting('app.adopt_from', true))
    with check (user_id = current_setting('app.user_id', true));

-- Messages and feedback follow their conversation's owner through their foreign keys (which
-- act as the table owner, outside row-level security).
alter table message drop constraint message_conversation_fkey;
alter table message add constraint message_conversation_fkey foreign key (conversation_id, user_id)
    references conversation (id, user_id) on delete cascade on update cascade;
alter table message_feedback drop constraint message_feedback_conversation_fkey;
alter table message_feedback add constraint message_feedback_conversation_fkey
    foreign key (conversation_id, user_id)
    references conversation (id, user_id) on delete cascade on update cascade;
