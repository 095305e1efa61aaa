-- Administrators (Better Auth's admin plugin): its columns, added as Better Auth's migration adds
-- them to existing tables (measured on 1.7.29: `role` with no default, which the plugin's hook
-- and Chatkeep write as 'user' on every new user; `banned` defaulting to false), so a Better
-- Auth server with the plugin and Chatkeep share the database.
alter table "user" add column if not exists role text;
alter table "user" add column if not exists banned boolean default false;
alter table "user" add column if not exists "banReason" text;
alter table "user" add column if not exists "banExpires" timestamptz;
alter table session add column if not exists "impersonatedBy" text;
