//! `GET /api/search`.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use shared::search::{HitKind, SearchHit, SearchPage};
use shared::{ConversationId, MessageId};
use utoipa_actix_web::service_config::ServiceConfig;

use super::query::{self, MAX_QUERY_CHARS};
use super::snippet;
use super::store::{self, Filter, HitRow, RankCursor};
use crate::auth::AuthUser;
use crate::columns::{iso_micros, parse_role};
use crate::cursor::{self, Cursor};
use crate::db::{begin_for_user, end_read};
use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(search);
}

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 50;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// What to find, in web search syntax: `"a phrase"`, `this OR that`, `-without`. The last
    /// word also matches as a prefix, so results come as you type. 1 to 500 characters.
    q: Option<String>,
    /// Page size, 1 to 50 (larger values are clamped); default 20.
    limit: Option<u32>,
    /// `nextCursor` from the previous page.
    cursor: Option<String>,
    /// `true`: only archived conversations; `false`: only the others; default: both.
    archived: Option<bool>,
    /// Only hits from this moment on: RFC 3339, or a date (`2026-12-01`, from its start, UTC).
    from: Option<String>,
    /// Only hits before this moment: RFC 3339, or a date (up to the end of that day, UTC).
    to: Option<String>,
}

fn bad_query(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("INVALID_QUERY", message)
}

/// A moment: RFC 3339, or a date (its start; with `end_of_day`, the start of the next day).
fn parse_moment(name: &str, raw: &str, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        bad_query(format!(
            "{name} must be an RFC 3339 time or a YYYY-MM-DD date"
        ))
    })?;
    let date = if end_of_day {
        date.succ_opt()
    } else {
        Some(date)
    };
    date.and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| bad_query(format!("{name} is out of range")))
}

fn encode_cursor(c: RankCursor) -> String {
    format!(
        "{:08x}{}",
        c.rank.to_bits(),
        Cursor { at: c.at, id: c.id }.encode()
    )
}

fn decode_cursor(raw: &str) -> Result<RankCursor, ApiError> {
    let invalid = cursor::invalid_cursor;
    let (bits, rest) = (raw.get(..8).ok_or_else(invalid)?, &raw[8.min(raw.len())..]);
    let rank = u32::from_str_radix(bits, 16)
        .map(f32::from_bits)
        .ok()
        .filter(|r| r.is_finite())
        .ok_or_else(invalid)?;
    let Cursor { at, id } = Cursor::decode(rest)?;
    Ok(RankCursor { rank, at, id })
}

/// Search the caller's conversation titles and messages, most relevant first.
#[utoipa::path(
    tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "A page of hits", body = SearchPage),
        (status = 400, description = "A missing or too long `q`, or a malformed `limit`, `cursor`, `from` or `to`", body = shared::ErrorBody),
        (status = 401, description = "Not signed in", body = shared::ErrorBody),
    )
)]
#[get("/search")]
async fn search(
    user: AuthUser,
    state: web::Data<AppState>,
    params: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = params.q.as_deref().map(str::trim).unwrap_or_default();
    if q.is_empty() {
        return Err(bad_query("q is required: the words to search for"));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(bad_query(format!(
            "q must be at most {MAX_QUERY_CHARS} characters"
        )));
    }
    let limit = cursor::page_limit(params.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let typed = query::parse(q);
    let filter = Filter {
        language: &state.settings.history.search_language,
        typed: &typed,
        archived: params.archived,
        from: params
            .from
            .as_deref()
            .map(|raw| parse_moment("from", raw, false))
            .transpose()?,
        to: params
            .to
            .as_deref()
            .map(|raw| parse_moment("to", raw, true))
            .transpose()?,
        after: params.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: limit + 1,
    };
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    let mut rows = store::search(&mut tx, &user.id, &filter).await?;
    end_read(tx);
    let next_cursor = (rows.len() as i64 > limit).then(|| {
        rows.truncate(limit as usize);
        let last = rows.last().expect("a full page has a last row");
        encode_cursor(RankCursor {
            rank: last.rank,
            at: last.at,
            id: last.id,
        })
    });
    Ok(HttpResponse::Ok().json(SearchPage {
        items: rows.iter().map(hit).collect(),
        next_cursor,
    }))
}

fn hit(row: &HitRow) -> SearchHit {
    let is_message = row.kind == "message";
    SearchHit {
        kind: if is_message {
            HitKind::Message
        } else {
            HitKind::Title
        },
        conversation_id: ConversationId::new(row.conversation_id),
        conversation_title: row.title.clone(),
        message_id: is_message.then(|| MessageId::new(row.id)),
        role: row.role.as_deref().map(parse_role),
        created_at: iso_micros(row.at),
        snippet: snippet::segments(&row.headline, &row.text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_keep_the_rank_exactly() {
        let cursor = RankCursor {
            rank: 0.060_793_2,
            at: DateTime::from_timestamp_micros(1_795_749_232_123_456).unwrap(),
            id: uuid::Uuid::now_v7(),
        };
        assert_eq!(decode_cursor(&encode_cursor(cursor)).unwrap(), cursor);
        for bad in ["", "zz", "0000000", "7fc00000bm90"] {
            assert_eq!(decode_cursor(bad).unwrap_err().code(), "INVALID_CURSOR");
        }
    }

    #[test]
    fn dates_cover_whole_days() {
        let from = parse_moment("from", "2026-12-01", false).unwrap();
        let to = parse_moment("to", "2026-12-01", true).unwrap();
        assert_eq!((to - from).num_hours(), 24);
        assert!(parse_moment("from", "yesterday", false).is_err());
    }
}
