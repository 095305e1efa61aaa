-- The server indexes the built-in agent's corpus over the migrating (owner) connection at
-- startup; at run time it only searches it. Anything that gets to run SQL as the application
-- role must not be able to rewrite what the agent cites.
revoke insert, update, delete on doc_chunk, doc_corpus from chatkeep_app;
