//! What Better Auth's admin plugin does to the `"user"` and `session` tables: find users (search,
//! filter, sort, page), set roles, ban and unban, and list a user's sessions. Everything here
//! crosses users; only an administrator's request (or the command line) reaches it.

use chrono::{DateTime, Utc};
use shared::UserId;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::{SessionRecord, SessionRow, UserRecord, UserRow, now};
use crate::columns::like_escaped;

/// A column `list-users` may search, filter or sort by: the wire name and the quoted column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    Name,
    Email,
    EmailVerified,
    Image,
    CreatedAt,
    UpdatedAt,
    IsAnonymous,
    Role,
    Banned,
    BanReason,
    BanExpires,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Bool,
    Time,
}

impl Field {
    /// The field a wire name means (the user object's camelCase keys).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "id" => Self::Id,
            "name" => Self::Name,
            "email" => Self::Email,
            "emailVerified" => Self::EmailVerified,
            "image" => Self::Image,
            "createdAt" => Self::CreatedAt,
            "updatedAt" => Self::UpdatedAt,
            "isAnonymous" => Self::IsAnonymous,
            "role" => Self::Role,
            "banned" => Self::Banned,
            "banReason" => Self::BanReason,
            "banExpires" => Self::BanExpires,
            _ => return None,
        })
    }

    fn column(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Name => "name",
            Self::Email => "email",
            Self::EmailVerified => r#""emailVerified""#,
            Self::Image => "image",
            Self::CreatedAt => r#""createdAt""#,
            Self::UpdatedAt => r#""updatedAt""#,
            Self::IsAnonymous => r#""isAnonymous""#,
            Self::Role => "role",
            Self::Banned => "banned",
            Self::BanReason => r#""banReason""#,
            Self::BanExpires => r#""banExpires""#,
        }
    }

    fn kind(self) -> Kind {
        match self {
            Self::EmailVerified | Self::IsAnonymous | Self::Banned => Kind::Bool,
            Self::CreatedAt | Self::UpdatedAt | Self::BanExpires => Kind::Time,
            _ => Kind::Text,
        }
    }
}

/// The adapter's `where` operators, as `list-users` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    NotIn,
    Contains,
    StartsWith,
    EndsWith,
}

impl Operator {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "lt" => Self::Lt,
            "lte" => Self::Lte,
            "gt" => Self::Gt,
            "gte" => Self::Gte,
            "in" => Self::In,
            "not_in" => Self::NotIn,
            "contains" => Self::Contains,
            "starts_with" => Self::StartsWith,
            "ends_with" => Self::EndsWith,
            _ => return None,
        })
    }
}

/// One condition: `field operator value`.
#[derive(Debug, Clone)]
pub struct Condition {
    pub field: Field,
    pub operator: Operator,
    pub value: String,
}

/// A `list-users` query, parsed.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub conditions: Vec<Condition>,
    /// The field and `true` for descending.
    pub sort: Option<(Field, bool)>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Why a condition cannot be asked of the database (Better Auth answers an empty list).
#[derive(Debug)]
pub struct Unanswerable;

fn push_condition(
    query: &mut QueryBuilder<Postgres>,
    condition: &Condition,
) -> Result<(), Unanswerable> {
    let column = condition.field.column();
    let value = condition.value.as_str();
    let like = |query: &mut QueryBuilder<Postgres>, pattern: String| {
        query.push(format!("{column} LIKE ")).push_bind(pattern);
    };
    match condition.operator {
        Operator::Contains => like(query, format!("%{}%", like_escaped(value))),
        Operator::StartsWith => like(query, format!("{}%", like_escaped(value))),
        Operator::EndsWith => like(query, format!("%{}", like_escaped(value))),
        Operator::In | Operator::NotIn => {
            let values: Vec<&str> = value.split(',').map(str::trim).collect();
            query.push(format!("{column}::text "));
            if condition.operator == Operator::NotIn {
                query.push("<> ALL(");
            } else {
                query.push("= ANY(");
            }
            query.push_bind(values.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>());
            query.push(")");
        }
        operator => {
            let sign = match operator {
                Operator::Eq => "=",
                Operator::Ne => "<>",
                Operator::Lt => "<",
                Operator::Lte => "<=",
                Operator::Gt => ">",
                _ => ">=",
            };
            query.push(format!("{column} {sign} "));
            match condition.field.kind() {
                Kind::Text => {
                    query.push_bind(value.to_owned());
                }
                Kind::Bool => {
                    let parsed: bool = value.parse().map_err(|_| Unanswerable)?;
                    query.push_bind(parsed);
                }
                Kind::Time => {
                    let parsed = DateTime::parse_from_rfc3339(value).map_err(|_| Unanswerable)?;
                    query.push_bind(parsed.with_timezone(&Utc));
                }
            }
        }
    }
    Ok(())
}

fn push_where(
    query: &mut QueryBuilder<Postgres>,
    conditions: &[Condition],
) -> Result<(), Unanswerable> {
    for (i, condition) in conditions.iter().enumerate() {
        query.push(if i == 0 { " WHERE " } else { " AND " });
        push_condition(query, condition)?;
    }
    Ok(())
}

const USER_COLUMNS: &str = r#"id, name, email, "emailVerified" AS email_verified, image,
    "createdAt" AS created_at, "updatedAt" AS updated_at,
    coalesce("isAnonymous", false) AS is_anonymous,
    role, banned, "banReason" AS ban_reason, "banExpires" AS ban_expires"#;

/// The page of users the query asks for, and how many match in all. `Err(Unanswerable)` for a
/// value the field cannot hold (a date that is not one).
pub async fn list_users(
    conn: &mut PgConnection,
    query: &UserQuery,
) -> sqlx::Result<Result<(Vec<UserRow>, i64), Unanswerable>> {
    let mut page = QueryBuilder::<Postgres>::new(format!(r#"SELECT {USER_COLUMNS} FROM "user""#));
    if let Err(e) = push_where(&mut page, &query.conditions) {
        return Ok(Err(e));
    }
    // Without a sort asked for, the newest first; the id breaks ties, so pages never overlap.
    let (field, descending) = query.sort.unwrap_or((Field::CreatedAt, true));
    let direction = if descending { "DESC" } else { "ASC" };
    page.push(format!(
        " ORDER BY {} {direction}, id {direction}",
        field.column()
    ));
    if let Some(limit) = query.limit {
        page.push(" LIMIT ").push_bind(limit);
    }
    if let Some(offset) = query.offset {
        page.push(" OFFSET ").push_bind(offset);
    }
    let users: Vec<UserRecord> = page.build_query_as().fetch_all(&mut *conn).await?;

    let mut count = QueryBuilder::<Postgres>::new(r#"SELECT count(*) FROM "user""#);
    if let Err(e) = push_where(&mut count, &query.conditions) {
        return Ok(Err(e));
    }
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
    Ok(Ok((users.into_iter().map(Into::into).collect(), total)))
}

/// Sets the user's roles (comma-joined); `None` when there is no such user.
pub async fn set_role(
    conn: &mut PgConnection,
    user_id: &UserId,
    role: &str,
) -> sqlx::Result<Option<UserRow>> {
    query_users!(
        r#"UPDATE "user" SET role = $2, "updatedAt" = $3 WHERE id = $1 RETURNING"#,
        "",
        user_id.as_str(),
        role,
        now()
    )
    .fetch_optional(conn)
    .await
    .map(|row| row.map(Into::into))
}

/// Bans the user (their sessions are the caller's to delete).
pub async fn ban(
    conn: &mut PgConnection,
    user_id: &UserId,
    reason: &str,
    expires: Option<DateTime<Utc>>,
) -> sqlx::Result<Option<UserRow>> {
    query_users!(
        r#"UPDATE "user" SET banned = true, "banReason" = $2, "banExpires" = $3, "updatedAt" = $4
            WHERE id = $1 RETURNING"#,
        "",
        user_id.as_str(),
        reason,
        expires,
        now()
    )
    .fetch_optional(conn)
    .await
    .map(|row| row.map(Into::into))
}

/// Lifts the user's ban.
pub async fn unban(conn: &mut PgConnection, user_id: &UserId) -> sqlx::Result<Option<UserRow>> {
    query_users!(
        r#"UPDATE "user" SET banned = false, "banReason" = NULL, "banExpires" = NULL,
                             "updatedAt" = $2
            WHERE id = $1 RETURNING"#,
        "",
        user_id.as_str(),
        now()
    )
    .fetch_optional(conn)
    .await
    .map(|row| row.map(Into::into))
}

/// What `update-user` may change, each `Some` to change it.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub image: Option<Option<String>>,
    pub role: Option<String>,
    pub banned: Option<bool>,
    pub ban_reason: Option<Option<String>>,
    pub ban_expires: Option<Option<DateTime<Utc>>>,
}

/// Applies the changes; `None` when there is no such user.
pub async fn update_user(
    conn: &mut PgConnection,
    user_id: &UserId,
    changes: &UserChanges,
) -> sqlx::Result<Option<UserRow>> {
    let mut query = QueryBuilder::<Postgres>::new(r#"UPDATE "user" SET "updatedAt" = "#);
    query.push_bind(now());
    if let Some(name) = &changes.name {
        query.push(", name = ").push_bind(name.clone());
    }
    if let Some(email) = &changes.email {
        query.push(", email = ").push_bind(email.clone());
    }
    if let Some(verified) = changes.email_verified {
        query.push(r#", "emailVerified" = "#).push_bind(verified);
    }
    if let Some(image) = &changes.image {
        query.push(", image = ").push_bind(image.clone());
    }
    if let Some(role) = &changes.role {
        query.push(", role = ").push_bind(role.clone());
    }
    if let Some(banned) = changes.banned {
        query.push(", banned = ").push_bind(banned);
    }
    if let Some(reason) = &changes.ban_reason {
        query.push(r#", "banReason" = "#).push_bind(reason.clone());
    }
    if let Some(expires) = changes.ban_expires {
        query.push(r#", "banExpires" = "#).push_bind(expires);
    }
    query
        .push(" WHERE id = ")
        .push_bind(user_id.as_str().to_owned())
        .push(format!(" RETURNING {USER_COLUMNS}"));
    let row: Option<UserRecord> = query.build_query_as().fetch_optional(conn).await?;
    Ok(row.map(Into::into))
}

/// Every session of the user, expired ones too, oldest first (as `list-user-sessions` shows).
pub async fn sessions_of(
    conn: &mut PgConnection,
    user_id: &UserId,
) -> sqlx::Result<Vec<SessionRow>> {
    query_sessions!(
        "SELECT",
        r#"FROM session WHERE "userId" = $1 ORDER BY "createdAt", id"#,
        user_id.as_str()
    )
    .fetch_all(conn)
    .await
    .map(|rows| rows.into_iter().map(Into::into).collect())
}

/// Sets the `role` of the user with this address: the command line's `admin grant`/`revoke`.
/// `None` when nobody has the address.
pub async fn set_role_by_email(
    conn: &mut PgConnection,
    email: &str,
    role: &str,
) -> sqlx::Result<Option<UserRow>> {
    query_users!(
        r#"UPDATE "user" SET role = $2, "updatedAt" = $3 WHERE email = $1 RETURNING"#,
        "",
        email,
        role,
        now()
    )
    .fetch_optional(conn)
    .await
    .map(|row| row.map(Into::into))
}
