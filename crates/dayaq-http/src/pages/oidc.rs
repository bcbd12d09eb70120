//! Single sign-on with OpenID Connect (issue 22 §1): "Sign in with <provider>" on the sign-in
//! page starts the authorization-code flow with PKCE and a nonce (`openidconnect`); the
//! callback takes the pending sign-in once (state + browser-binding cookie), exchanges the code,
//! verifies the ID token (signature, issuer, audience, expiry, nonce) and lets storage decide
//! (`Store::oidc_sign_in`: linked subject, e-mail domain, role claim). The Dayaq session then
//! follows the same steps as after a password (second factor where the role needs one).
//! Refusals are human pages with a reason; storage audits them by code only.
//! `/admin/sso` shows the organisation's provider settings (read-only; set by CLI).

use super::*;
use axum::extract::Query;
use dayaq_domain::sso::Refusal;
use dayaq_storage::users::{OrgOidc, PendingSso, SsoIdentity, SsoOutcome};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse,
};
use std::collections::HashMap;

/// The cookie binding a started sign-in to this browser. `SameSite=Lax`: the provider's
/// redirect back is a cross-site top-level navigation, on which Strict cookies are not sent.
const BINDING_COOKIE: &str = "dayaq_sso";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/login/sso/callback", get(callback))
        .route("/login/sso/{org}", get(start))
}

/// The screens needing a session (merged with the other screens).
pub(crate) fn admin_router() -> Router<AppState> {
    Router::new().route("/admin/sso", get(settings_page))
}

/// Every claim of the ID token beyond the standard ones (the role claim is read from here).
#[derive(Debug, Clone, Default, serde::Serialize, Deserialize)]
struct Extra {
    #[serde(flatten)]
    claims: HashMap<String, serde_json::Value>,
}
impl AdditionalClaims for Extra {}

type SsoTokenResponse = StandardTokenResponse<
    IdTokenFields<
        Extra,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

type SsoClient = openidconnect::Client<
    Extra,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    SsoTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The HTTP client towards providers: no redirects followed (no SSRF through a redirect), a
/// bounded time.
fn http_client() -> Result<openidconnect::reqwest::Client, Refusal> {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|_| Refusal::ProviderUnavailable)
}

/// Discovery (`/.well-known/openid-configuration` and the JWKS) and the client of `org`.
async fn client_of(
    org: &OrgOidc,
    http: &openidconnect::reqwest::Client,
    secret: Option<ClientSecret>,
) -> Result<SsoClient, Refusal> {
    let p = &org.provider;
    let issuer = IssuerUrl::new(p.issuer.clone()).map_err(|_| Refusal::ProviderUnavailable)?;
    let meta = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| {
            tracing::warn!(org = %org.org_id, error = %e, "sso: provider discovery failed");
            Refusal::ProviderUnavailable
        })?;
    let redirect =
        RedirectUrl::new(p.redirect_uri.clone()).map_err(|_| Refusal::ProviderUnavailable)?;
    Ok(
        SsoClient::from_provider_metadata(meta, ClientId::new(p.client_id.clone()), secret)
            .set_redirect_uri(redirect),
    )
}

/// The client secret, read from its file at each sign-in (so a rotated file takes effect).
async fn secret_of(org: &OrgOidc) -> Result<ClientSecret, Refusal> {
    match tokio::fs::read_to_string(&org.provider.secret_file).await {
        Ok(s) if !s.trim().is_empty() => Ok(ClientSecret::new(s.trim().to_string())),
        _ => {
            tracing::warn!(org = %org.org_id, "sso: the client secret file is unreadable or empty");
            Err(Refusal::ProviderUnavailable)
        }
    }
}

fn binding_cookie(value: &str, secure: bool, max_age: i64) -> String {
    cookie::Cookie::build((BINDING_COOKIE, value.to_string()))
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .path("/login/sso")
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
        .to_string()
}

#[derive(Deserialize)]
struct StartQuery {
    #[serde(default)]
    next: String,
}

/// `GET /login/sso/{org}`: a new pending sign-in, then off to the provider.
async fn start(
    State(state): State<AppState>,
    info: ReqInfo,
    Path(org): Path<String>,
    Query(q): Query<StartQuery>,
) -> Response {
    let org = match state.store.org_oidc_by_slug(&org).await {
        Ok(Some(o)) => o,
        Ok(None) => return error_page(&state, None, info.lang, AppError::NotFound),
        Err(e) => return error_page(&state, None, info.lang, e.into()),
    };
    match begin(&state, &org, &q.next).await {
        Ok(resp) => resp,
        Err(r) => refusal_page(&state, &info, Some(org.org_id), r).await,
    }
}

async fn begin(state: &AppState, org: &OrgOidc, next: &str) -> Result<Response, Refusal> {
    let http = http_client()?;
    let client = client_of(org, &http, None).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let binding = random_token().map_err(|_| Refusal::ProviderUnavailable)?;
    let pending = PendingSso {
        org_id: org.org_id,
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        next_path: auth::next_path(next).unwrap_or_default(),
    };
    state
        .store
        .oidc_begin(org.org_id, csrf.secret(), &binding, &pending, state.now())
        .await
        .map_err(|_| Refusal::ProviderUnavailable)?;
    Ok(with_cookie(
        see_other(url.as_str()),
        binding_cookie(&binding, state.cfg.secure_cookies, 600),
    ))
}

#[derive(Deserialize)]
struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// `GET /login/sso/callback`: the provider sends the browser back here.
async fn callback(
    State(state): State<AppState>,
    info: ReqInfo,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let binding = auth::cookie_value(&headers, BINDING_COOKIE).unwrap_or_default();
    let pending = match q.state.as_deref() {
        Some(s) if !binding.is_empty() => {
            match state.store.oidc_take(s, &binding, state.now()).await {
                Ok(p) => p,
                Err(e) => return error_page(&state, None, info.lang, e.into()),
            }
        }
        _ => None,
    };
    let Some(pending) = pending else {
        return refusal_page(&state, &info, None, Refusal::UnknownState).await;
    };
    let org_id = pending.org_id;
    let org = match state.store.org_oidc(org_id).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            return refusal_page(&state, &info, Some(org_id), Refusal::ProviderUnavailable).await;
        }
        Err(e) => return error_page(&state, None, info.lang, e.into()),
    };
    if q.error.is_some() {
        return refusal_page(&state, &info, Some(org_id), Refusal::ProviderError).await;
    }
    let Some(code) = q.code else {
        return refusal_page(&state, &info, Some(org_id), Refusal::ProviderError).await;
    };
    let identity = match verify(&org, code, &pending).await {
        Ok(i) => i,
        Err(r) => return refusal_page(&state, &info, Some(org_id), r).await,
    };
    let user = match state
        .store
        .oidc_sign_in(&org, &identity, &info.source, state.now())
        .await
    {
        Ok(SsoOutcome::SignedIn(u)) => u,
        Ok(SsoOutcome::Refused(r)) => return shown_refusal(&state, &info, r),
        Err(e) => return error_page(&state, None, info.lang, e.into()),
    };
    let resp = signin::signed_in(&state, &user, &info).await;
    let secure = state.cfg.secure_cookies;
    let resp = with_cookie(resp, binding_cookie("", secure, 0));
    let to = resp
        .headers()
        .get(axum::http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match to {
        // Back to the page the sign-in started from (a checked path), when no second factor
        // comes first; before one, the page waits in the same cookie as after a password.
        Some(to) if to == "/" && !pending.next_path.is_empty() => {
            continue_page(&state, &info, resp, &pending.next_path)
        }
        Some(to) => {
            let resp = if pending.next_path.is_empty() {
                resp
            } else {
                with_cookie(
                    resp,
                    set_cookie(auth::NEXT_COOKIE, &pending.next_path, secure, Some(900)),
                )
            };
            continue_page(&state, &info, resp, &to)
        }
        None => resp,
    }
}

/// The code exchange (with the PKCE verifier) and the ID token's verification.
async fn verify(org: &OrgOidc, code: String, pending: &PendingSso) -> Result<SsoIdentity, Refusal> {
    let http = http_client()?;
    let secret = secret_of(org).await?;
    let client = client_of(org, &http, Some(secret)).await?;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|_| Refusal::ProviderUnavailable)?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
        .request_async(&http)
        .await
        .map_err(|e| {
            tracing::info!(org = %org.org_id, error = %e, "sso: code exchange refused");
            Refusal::TokenExchange
        })?;
    let Some(id_token) = token.id_token() else {
        return Err(Refusal::InvalidToken);
    };
    let nonce = Nonce::new(pending.nonce.clone());
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .map_err(|e| {
            tracing::info!(org = %org.org_id, error = %e, "sso: ID token refused");
            Refusal::InvalidToken
        })?;
    let role_values = if org.provider.role_claim.is_empty() {
        Vec::new()
    } else {
        match claims
            .additional_claims()
            .claims
            .get(&org.provider.role_claim)
        {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    Ok(SsoIdentity {
        // The token's issuer equals the configured one (discovery and verification check it);
        // links are stored under the configured spelling.
        issuer: org.provider.issuer.clone(),
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.to_string()),
        email_verified: claims.email_verified().unwrap_or(false),
        role_values,
    })
}

/// The session cookie is `SameSite=Strict`, so it is not sent on a redirect that is part of the
/// provider's cross-site chain: the browser is sent on by a page of this site instead.
fn continue_page(state: &AppState, info: &ReqInfo, resp: Response, to: &str) -> Response {
    let to = local_path(to).to_string();
    let c = Chrome::new(state, info.lang, None, String::new(), "login");
    let (parts, _) = resp.into_parts();
    let mut page = (StatusCode::OK, SsoContinue { c, to }).into_response();
    for v in parts.headers.get_all(SET_COOKIE) {
        page.headers_mut().append(SET_COOKIE, v.clone());
    }
    page
}

#[derive(Template, WebTemplate)]
#[template(path = "sso_continue.html")]
struct SsoContinue {
    c: Chrome,
    to: String,
}

/// Audits a refusal decided here (storage audits its own) and shows it.
async fn refusal_page(state: &AppState, info: &ReqInfo, org: Option<Uuid>, r: Refusal) -> Response {
    if let Err(e) = state
        .store
        .oidc_refused(org, r, &info.source, state.now())
        .await
    {
        return error_page(state, None, info.lang, e.into());
    }
    shown_refusal(state, info, r)
}

fn shown_refusal(state: &AppState, info: &ReqInfo, r: Refusal) -> Response {
    let t = Tr::new(info.lang);
    let key = match r {
        Refusal::UnknownState => "sso-refused-unknown-state",
        Refusal::ProviderError => "sso-refused-provider-error",
        Refusal::ProviderUnavailable => "sso-refused-provider-unavailable",
        Refusal::TokenExchange | Refusal::InvalidToken => "sso-refused-invalid-token",
        Refusal::UnknownSubject => "sso-refused-unknown-subject",
        Refusal::Disabled => "sso-refused-disabled",
        Refusal::EmailDomain => "sso-refused-email-domain",
        Refusal::NoRole => "sso-refused-no-role",
    };
    let status = match r {
        Refusal::ProviderUnavailable => StatusCode::BAD_GATEWAY,
        Refusal::UnknownState | Refusal::ProviderError => StatusCode::BAD_REQUEST,
        _ => StatusCode::FORBIDDEN,
    };
    PageMessage {
        frame: Chrome::new(state, info.lang, None, String::new(), "login"),
        status,
        title_key: "sso-refused-title",
        message: format!("{} ({})", t.get(key), r.code()),
    }
    .into_response()
}

// ---------- the settings screen (read-only) ----------

struct LinkLine {
    username: String,
    linked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_sso.html")]
struct SettingsPage {
    c: Chrome,
    provider: Option<OrgOidc>,
    domains: String,
    mappings: Vec<(String, String)>,
    users: Vec<LinkLine>,
}

/// `GET /admin/sso`: the organisation's provider and which accounts are linked (the subjects
/// themselves are not shown); the organisation's admin only (`Action::ViewSsoSettings`).
async fn settings_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    let c = Chrome::for_user(&state, &a, "");
    let lang = c.t.lang;
    let provider = match state.store.sso_settings(&a.cx()).await {
        Ok(p) => p,
        Err(e) => return error_page(&state, Some(c), lang, e.into()),
    };
    let mut users = Vec::new();
    if provider.is_some() {
        let list = match state.store.users_of_org(a.user.org_id).await {
            Ok(l) => l,
            Err(e) => return error_page(&state, Some(c), lang, e.into()),
        };
        for u in list {
            let linked = match state.store.oidc_linked(u.id).await {
                Ok(l) => l,
                Err(e) => return error_page(&state, Some(c), lang, e.into()),
            };
            users.push(LinkLine {
                username: u.username,
                linked,
            });
        }
    }
    let domains = provider
        .as_ref()
        .map(|p| p.provider.allowed_domains.join(", "))
        .unwrap_or_default();
    let mappings = provider
        .as_ref()
        .map(|p| {
            p.provider
                .role_map
                .0
                .iter()
                .map(|(v, r)| {
                    (
                        v.clone(),
                        c.t.get(&format!("role-{}", r.as_str().replace('_', "-"))),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    SettingsPage {
        c,
        provider,
        domains,
        mappings,
        users,
    }
    .into_response()
}
