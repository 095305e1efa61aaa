//! Finding users: `GET /admin/list-users` (search, filter, sort, page) and `GET /admin/get-user`.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use shared::UserId;
use shared::admin::UserList;

use super::{NOT_ALLOWED_TO_GET_USER, NOT_ALLOWED_TO_LIST_USERS, USER_NOT_FOUND, admin_caller};
use crate::auth::error::AuthError;
use crate::auth::store::{
    self,
    admin::{Condition, Field, Operator, UserQuery},
};
use crate::state::AppState;

/// `list-users`' query, as the admin plugin reads it.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(in crate::auth::routes) struct ListUsersQuery {
    /// Find users whose `searchField` holds this (case as written).
    search_value: Option<String>,
    /// `email` (the default) or `name`.
    search_field: Option<String>,
    /// `contains` (the default), `starts_with` or `ends_with`.
    search_operator: Option<String>,
    /// How many users (all when absent).
    limit: Option<String>,
    /// How many to skip.
    offset: Option<String>,
    /// A field of the user object (`createdAt`, `email`, `name`, …); newest first when absent.
    sort_by: Option<String>,
    /// `asc` (the default when sorting) or `desc`.
    sort_direction: Option<String>,
    /// The field to filter on (default `email`).
    filter_field: Option<String>,
    /// Only users whose `filterField` compares so with this.
    filter_value: Option<String>,
    /// `eq` (the default), `ne`, `lt`, `lte`, `gt`, `gte`, `in`, `not_in`, `contains`,
    /// `starts_with` or `ends_with`.
    filter_operator: Option<String>,
}

fn invalid_option(key: &str, options: &str) -> AuthError {
    AuthError::validation(format!(
        "[query.{key}] Invalid option: expected one of {options}"
    ))
}

/// JavaScript's `Number(text) || undefined`: `None` for nothing, zero or not a number.
fn js_number(raw: Option<&str>) -> Option<f64> {
    let text = raw?.trim();
    let n = if text.is_empty() {
        0.0
    } else {
        text.parse::<f64>().ok()?
    };
    (n != 0.0 && n.is_finite()).then_some(n)
}

/// What the database can be asked: `Err(())` for a query Better Auth's adapter would fail on
/// (an unknown field, a negative or fractional count), which it answers with an empty list.
fn parse(q: &ListUsersQuery) -> Result<Result<UserQuery, ()>, AuthError> {
    let search_field = match q.search_field.as_deref() {
        None | Some("email") => Field::Email,
        Some("name") => Field::Name,
        Some(_) => return Err(invalid_option("searchField", r#""email"|"name""#)),
    };
    let search_operator = match q.search_operator.as_deref() {
        None | Some("contains") => Operator::Contains,
        Some("starts_with") => Operator::StartsWith,
        Some("ends_with") => Operator::EndsWith,
        Some(_) => {
            return Err(invalid_option(
                "searchOperator",
                r#""contains"|"starts_with"|"ends_with""#,
            ));
        }
    };
    let descending = match q.sort_direction.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(invalid_option("sortDirection", r#""asc"|"desc""#)),
    };
    let filter_operator = match q.filter_operator.as_deref() {
        None => Operator::Eq,
        Some(name) => Operator::parse(name).ok_or_else(|| {
            invalid_option(
                "filterOperator",
                r#""eq"|"ne"|"lt"|"lte"|"gt"|"gte"|"in"|"not_in"|"contains"|"starts_with"|"ends_with""#,
            )
        })?,
    };

    // PostgreSQL text cannot hold NUL: nothing can match it.
    let texts = [
        &q.search_value,
        &q.sort_by,
        &q.filter_field,
        &q.filter_value,
    ];
    if texts
        .iter()
        .any(|t| t.as_deref().is_some_and(|t| t.contains('\0')))
    {
        return Ok(Err(()));
    }
    let mut query = UserQuery::default();
    if let Some(value) = q.search_value.as_deref().filter(|v| !v.is_empty()) {
        query.conditions.push(Condition {
            field: search_field,
            operator: search_operator,
            value: value.to_owned(),
        });
    }
    if let Some(value) = &q.filter_value {
        let Some(field) = Field::parse(q.filter_field.as_deref().unwrap_or("email")) else {
            return Ok(Err(()));
        };
        query.conditions.push(Condition {
            field,
            operator: filter_operator,
            value: value.clone(),
        });
    }
    if let Some(sort_by) = &q.sort_by {
        let Some(field) = Field::parse(sort_by) else {
            return Ok(Err(()));
        };
        query.sort = Some((field, descending));
    }
    let count = |raw: Option<&str>| match js_number(raw) {
        None => Ok(None),
        Some(n) if n > 0.0 && n.fract() == 0.0 && n <= i64::MAX as f64 => Ok(Some(n as i64)),
        Some(_) => Err(()),
    };
    match (count(q.limit.as_deref()), count(q.offset.as_deref())) {
        (Ok(limit), Ok(offset)) => {
            query.limit = limit;
            query.offset = offset;
            Ok(Ok(query))
        }
        _ => Ok(Err(())),
    }
}

/// Users, searched, filtered, sorted and paged, with how many match in all.
#[utoipa::path(
    tag = "admin",
    params(ListUsersQuery),
    responses(
        (status = 200, description = "`{users, total, limit?, offset?}`; an empty list for a field that does not exist", body = UserList),
        (status = 400, description = "`VALIDATION_ERROR`: an unknown `searchField`, `searchOperator`, `sortDirection` or `filterOperator`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
        (status = 403, description = "`YOU_ARE_NOT_ALLOWED_TO_LIST_USERS`", body = shared::auth::AuthErrorBody),
    )
)]
#[get("/admin/list-users")]
pub(in crate::auth::routes) async fn list_users(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AuthError> {
    let query = web::Query::<ListUsersQuery>::from_query(req.query_string())
        .map_err(|e| AuthError::validation(format!("[query] {e}")))?;
    let asked = parse(&query)?;
    let mut conn = state.pool.acquire().await?;
    admin_caller(
        &req,
        &state,
        &mut conn,
        ("user", "list"),
        NOT_ALLOWED_TO_LIST_USERS,
    )
    .await?;
    let empty = UserList {
        users: Vec::new(),
        total: 0,
        limit: None,
        offset: None,
    };
    let Ok(asked) = asked else {
        return Ok(HttpResponse::Ok().json(empty));
    };
    let Ok((users, total)) = store::admin::list_users(&mut conn, &asked).await? else {
        return Ok(HttpResponse::Ok().json(empty));
    };
    Ok(HttpResponse::Ok().json(UserList {
        users: users.iter().map(|u| state.auth.user(u)).collect(),
        total,
        limit: asked.limit,
        offset: asked.offset,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(in crate::auth::routes) struct GetUserQuery {
    /// The user's id.
    id: Option<String>,
}

/// One user, as the wire shows users (no `{user}` envelope, as the plugin answers).
#[utoipa::path(
    tag = "admin",
    params(GetUserQuery),
    responses(
        (status = 200, description = "The user", body = shared::auth::User),
        (status = 400, description = "`VALIDATION_ERROR`: no `id`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
        (status = 403, description = "`YOU_ARE_NOT_ALLOWED_TO_GET_USER`", body = shared::auth::AuthErrorBody),
        (status = 404, description = "`USER_NOT_FOUND`", body = shared::auth::AuthErrorBody),
    )
)]
#[get("/admin/get-user")]
pub(in crate::auth::routes) async fn get_user(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AuthError> {
    let query = web::Query::<GetUserQuery>::from_query(req.query_string())
        .map_err(|e| AuthError::validation(format!("[query] {e}")))?;
    let Some(id) = query.into_inner().id else {
        return Err(AuthError::validation(
            "[query.id] Invalid input: expected string, received undefined".to_owned(),
        ));
    };
    let mut conn = state.pool.acquire().await?;
    admin_caller(
        &req,
        &state,
        &mut conn,
        ("user", "get"),
        NOT_ALLOWED_TO_GET_USER,
    )
    .await?;
    if id.contains('\0') {
        return Err(USER_NOT_FOUND);
    }
    let user = store::user_by_id(&mut conn, &UserId::new(id))
        .await?
        .ok_or(USER_NOT_FOUND)?;
    Ok(HttpResponse::Ok().json(state.auth.user(&user)))
}

#[cfg(test)]
mod tests {
    use super::js_number;

    #[test]
    fn counts_read_as_javascripts_number_or_undefined() {
        assert_eq!(js_number(Some("10")), Some(10.0));
        assert_eq!(js_number(Some(" 7 ")), Some(7.0));
        assert_eq!(js_number(Some("0")), None);
        assert_eq!(js_number(Some("")), None);
        assert_eq!(js_number(Some("abc")), None);
        assert_eq!(js_number(None), None);
        assert_eq!(js_number(Some("-3")), Some(-3.0));
    }
}
