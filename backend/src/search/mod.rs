//! Search over the caller's conversation titles and message text: PostgreSQL full-text search
//! with `websearch_to_tsquery` syntax, the last word matched as a prefix (search as you type),
//! ranked by relevance, newer first among equals, with snippets whose matches are marked as
//! plain-text segments.

pub mod language;
pub mod query;
pub mod routes;
pub mod snippet;
pub mod store;

pub use routes::configure;
