//! Search: ranking, websearch syntax, prefixes, stemming and other languages, highlights that
//! are the text itself, plain text for markup, paging without repeats, filters, and isolation.

use std::collections::HashSet;

use reqwest::Method;
use shared::MessageId;
use shared::search::{HitKind, SearchHit, SearchPage};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{call, insert_history, with_query};
use crate::helpers::{TestApp, TestSession, error_body, spawn_app, spawn_app_with, unique_email};

async fn search(app: &TestApp, s: &TestSession, query: &[(&str, &str)]) -> SearchPage {
    let response = call(app, s, Method::GET, &with_query("/api/search", query))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{query:?}");
    response.json().await.unwrap()
}

async fn find(app: &TestApp, s: &TestSession, q: &str) -> Vec<SearchHit> {
    search(app, s, &[("q", q)]).await.items
}

fn plain(hit: &SearchHit) -> String {
    hit.snippet.iter().map(|s| s.text.as_str()).collect()
}

fn marked(hit: &SearchHit) -> Vec<String> {
    hit.snippet
        .iter()
        .filter(|s| s.mark)
        .map(|s| s.text.to_lowercase())
        .collect()
}

/// The message texts the hits point at, in order.
fn texts(hits: &[SearchHit], fixture: &[(uuid::Uuid, &str)]) -> Vec<String> {
    hits.iter()
        .filter_map(|h| h.message_id)
        .map(|id| {
            fixture
                .iter()
                .find(|(m, _)| *m == id.as_uuid())
                .map(|(_, text)| (*text).to_owned())
                .unwrap_or_else(|| panic!("{id} is not in the fixture"))
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn search_ranks_parses_websearch_and_matches_as_you_type(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let fixture_texts = [
        "Tomatoes, tomatoes, tomatoes: water the tomatoes deeply.",
        "Green tomatoes ripen on a sunny windowsill.",
        "Cucumbers want a trellis and steady watering; the weather here is mild and the soil \
         drains well, so most of the garden takes care of itself except for one tomato plant.",
        "Keyset pagination beats offset pagination on large tables.",
        "Die Straße war nass, und wir gingen nach Hause.",
        "<script>alert('tomato')</script> is not how you grow anything",
    ];
    let messages: Vec<(&str, &str)> = fixture_texts.iter().map(|t| ("user", *t)).collect();
    let (_, ids) = insert_history(&app, &alice.user_id, "Garden notes", &messages).await;
    let fixture: Vec<(uuid::Uuid, &str)> = ids.iter().copied().zip(fixture_texts).collect();

    // Ranking: the message that is all about tomatoes first, the passing mention last.
    let hits = find(&app, &alice, "tomato").await;
    let order = texts(&hits, &fixture);
    assert_eq!(order.first().map(String::as_str), Some(fixture_texts[0]));
    assert_eq!(order.len(), 4, "{order:?}");
    assert!(
        order.iter().position(|t| t == fixture_texts[2])
            > order.iter().position(|t| t == fixture_texts[1])
    );

    // websearch: a phrase, OR, and -word.
    assert_eq!(
        texts(&find(&app, &alice, "\"green tomatoes\"").await, &fixture),
        [fixture_texts[1]]
    );
    assert!(find(&app, &alice, "\"tomatoes green\"").await.is_empty());
    let either: HashSet<String> = texts(&find(&app, &alice, "keyset or cucumbers").await, &fixture)
        .into_iter()
        .collect();
    assert_eq!(
        either,
        HashSet::from([fixture_texts[2].to_owned(), fixture_texts[3].to_owned()])
    );
    let without = texts(&find(&app, &alice, "tomatoes -green").await, &fixture);
    assert!(
        !without.contains(&fixture_texts[1].to_owned())
            && without.contains(&fixture_texts[0].to_owned())
    );

    // The last word is a prefix: results as you type.
    assert_eq!(
        texts(&find(&app, &alice, "pagin").await, &fixture),
        [fixture_texts[3]]
    );
    assert_eq!(
        texts(&find(&app, &alice, "keyset pa").await, &fixture),
        [fixture_texts[3]]
    );
    // English stemming, and words of other languages (and English stop words) as written.
    assert!(
        texts(&find(&app, &alice, "watered").await, &fixture)
            .contains(&fixture_texts[2].to_owned())
    );
    assert_eq!(
        texts(&find(&app, &alice, "Straße").await, &fixture),
        [fixture_texts[4]]
    );
    assert_eq!(
        texts(&find(&app, &alice, "\"nach Hause\"").await, &fixture),
        [fixture_texts[4]]
    );

    // Highlights are the text itself, marked where the words matched.
    for hit in find(&app, &alice, "tomatoes water").await {
        let text = plain(&hit);
        let original = fixture
            .iter()
            .find(|(id, _)| Some(*id) == hit.message_id.map(MessageId::as_uuid))
            .unwrap()
            .1;
        assert!(
            original.contains(text.trim_matches('…')),
            "{text:?} is not from {original:?}"
        );
        let marks = marked(&hit);
        assert!(!marks.is_empty());
        assert!(
            marks
                .iter()
                .all(|m| m.starts_with("tomato") || m.starts_with("water")),
            "{marks:?}"
        );
    }
    // Markup in a message is text: it comes back verbatim, to be shown as text.
    let script = find(&app, &alice, "alert").await;
    assert_eq!(script.len(), 1);
    assert!(plain(&script[0]).starts_with("<script>alert('tomato')</script>"));
    assert_eq!(script[0].kind, HitKind::Message);

    // A title is a hit of its own.
    let title = find(&app, &alice, "garden notes").await;
    assert_eq!(title[0].kind, HitKind::Title);
    assert_eq!(title[0].conversation_title.as_deref(), Some("Garden notes"));
    assert!(title[0].message_id.is_none());

    // Another user finds none of it.
    let bob = app.sign_up(&unique_email("bob")).await;
    for q in ["tomato", "garden", "Straße", "\"green tomatoes\""] {
        assert!(find(&app, &bob, q).await.is_empty(), "{q}");
    }

    // Bad queries are 400 and say why.
    for query in [
        vec![],
        vec![("q", "   ")],
        vec![("q", "x".repeat(501).leak() as &str)],
        vec![("q", "tomato"), ("cursor", "garbage")],
        vec![("q", "tomato"), ("from", "last week")],
        vec![("q", "tomato"), ("limit", "0")],
    ] {
        let response = call(
            &app,
            &alice,
            Method::GET,
            &with_query("/api/search", &query),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(error_body(response).await.0, 400, "{query:?}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn search_pages_without_repeats_newer_first_among_equals_and_filters(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    // 25 equal messages: the same rank, so newer first.
    let same: Vec<(&str, &str)> = (0..25).map(|_| ("user", "how do I prune roses")).collect();
    let (conversation, ids) = insert_history(&app, &alice.user_id, "Roses", &same).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("q", "prune".to_owned()), ("limit", "10".to_owned())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = search(&app, &alice, &query).await;
        assert!(page.items.len() <= 10);
        seen.extend(
            page.items
                .iter()
                .filter_map(|h| h.message_id.map(|m| m.to_string())),
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let newest_first: Vec<String> = ids.iter().rev().map(|id| id.to_string()).collect();
    assert_eq!(seen, newest_first);

    // Dates: the fixture is a day old; archived conversations only when asked.
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .date_naive()
        .to_string();
    let today = chrono::Utc::now().date_naive().to_string();
    assert!(
        search(
            &app,
            &alice,
            &[("q", "prune"), ("from", &today), ("to", &today)]
        )
        .await
        .items
        .iter()
        .all(|h| h.created_at.starts_with(&today))
    );
    assert_eq!(
        search(
            &app,
            &alice,
            &[("q", "prune"), ("from", &yesterday), ("limit", "50")]
        )
        .await
        .items
        .len(),
        25
    );
    sqlx::query("UPDATE conversation SET archived_at = now() WHERE id = $1")
        .bind(conversation)
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(
        search(&app, &alice, &[("q", "prune"), ("archived", "false")])
            .await
            .items
            .is_empty()
    );
    assert_eq!(
        search(&app, &alice, &[("q", "prune"), ("archived", "true")])
            .await
            .items
            .len(),
        20
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn search_language_names_the_stemmer(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app_with(pool, conn, &[("SEARCH_LANGUAGE", "german")]).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    insert_history(
        &app,
        &alice.user_id,
        "Wohnen",
        &[("user", "Die Häuser am Fluss sind alt.")],
    )
    .await;
    // German stemming: "Haus" finds "Häuser" (English stemming would not).
    assert_eq!(find(&app, &alice, "Haus").await.len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_sidebar_filters_by_title(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    insert_history(&app, &alice.user_id, "Trip to Rome", &[("user", "q")]).await;
    insert_history(&app, &alice.user_id, "100% rye bread", &[("user", "q")]).await;
    insert_history(&app, &alice.user_id, "Taxes", &[("user", "rome")]).await;
    let titles = |q: &'static str| {
        let app = &app;
        let alice = &alice;
        async move {
            let page: shared::conversations::ConversationPage = call(
                app,
                alice,
                Method::GET,
                &with_query("/api/conversations", &[("q", q)]),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
            page.items
                .into_iter()
                .filter_map(|c| c.title)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(titles("rome").await, ["Trip to Rome"]);
    assert_eq!(titles("100%").await, ["100% rye bread"]);
    assert!(titles("_").await.is_empty());
    assert_eq!(titles("").await.len(), 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_search_role_sees_only_the_users_matching_messages(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let bob = app.sign_up(&unique_email("bob")).await;
    insert_history(
        &app,
        &alice.user_id,
        "A",
        &[("user", "tomato soup"), ("user", "bread")],
    )
    .await;
    insert_history(&app, &bob.user_id, "B", &[("user", "tomato salad")]).await;
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL ROLE chatkeep_search")
        .execute(&mut *tx)
        .await
        .unwrap();
    // No user and no query: nothing.
    assert_eq!(visible(&mut tx).await, 0);
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(&alice.user_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(visible(&mut tx).await, 0, "a user but no query: nothing");
    sqlx::query("SELECT set_config('app.search_query', 'tomato', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        visible(&mut tx).await,
        1,
        "Alice's one matching message, not Bob's"
    );
    // It may only read.
    let write = sqlx::query("UPDATE message SET content = 'x'")
        .execute(&mut *tx)
        .await;
    assert!(write.is_err());
}

async fn visible(conn: &mut sqlx::PgConnection) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM message")
        .fetch_one(conn)
        .await
        .unwrap()
}
