//! API token scopes (issue 22 §3): what a bearer token may be used for. A scope only ever
//! NARROWS what the access policy grants the token's user: a request a scope permits still
//! goes through `decide` like any other; a request it does not permit is refused before any
//! handler runs (403 `token_scope`).
//!
//! - `case_work`: everything the user's role may do through the API (the policy decides);
//! - `read_only`: reads only (`GET`/`HEAD`), every other method refused;
//! - `statistics`: reads of `/api/v1/statistics/…` and `/api/v1/me` only — never a case, a
//!   referral, a file, however the user's role is allowed to read them.

use serde::{Deserialize, Serialize};

/// How long a token lives when its creator does not say (days).
pub const DEFAULT_TOKEN_DAYS: i64 = 90;
/// The longest life a token may be given (days).
pub const MAX_TOKEN_DAYS: i64 = 180;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    ReadOnly,
    CaseWork,
    Statistics,
}

impl TokenScope {
    pub const ALL: &'static [TokenScope] = &[
        TokenScope::ReadOnly,
        TokenScope::CaseWork,
        TokenScope::Statistics,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::ReadOnly => "read_only",
            TokenScope::CaseWork => "case_work",
            TokenScope::Statistics => "statistics",
        }
    }

    pub fn parse(s: &str) -> Option<TokenScope> {
        TokenScope::ALL.iter().copied().find(|t| t.as_str() == s)
    }

    /// May a token of this scope make the request `method path` (the path as received,
    /// starting with `/api/v1`)? Deny by default: a statistics token passes only a plain
    /// path (no `.`/`..` segment, no percent escape) under the statistics routes.
    pub fn permits(self, method: &str, path: &str) -> bool {
        let read = matches!(method, "GET" | "HEAD");
        match self {
            TokenScope::CaseWork => true,
            TokenScope::ReadOnly => read,
            TokenScope::Statistics => {
                let plain =
                    !path.contains('%') && path.split('/').all(|seg| seg != "." && seg != "..");
                read && plain
                    && (path == "/api/v1/me"
                        || path == "/api/v1/statistics"
                        || path.starts_with("/api/v1/statistics/"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn method() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
        ])
        .prop_map(str::to_string)
    }

    #[test]
    fn scopes_round_trip() {
        for s in TokenScope::ALL {
            assert_eq!(TokenScope::parse(s.as_str()), Some(*s));
        }
        assert_eq!(TokenScope::parse("admin"), None);
    }

    #[test]
    fn statistics_scope_reads_statistics_only() {
        let s = TokenScope::Statistics;
        assert!(s.permits("GET", "/api/v1/statistics/national"));
        assert!(s.permits("GET", "/api/v1/me"));
        assert!(!s.permits("GET", "/api/v1/cases"));
        assert!(!s.permits("GET", "/api/v1/statistics/../cases"));
        assert!(!s.permits("GET", "/api/v1/statistic%73/national"));
        assert!(!s.permits("POST", "/api/v1/statistics/scorecard/values"));
    }

    proptest! {
        /// A read-only token never passes a method that writes.
        #[test]
        fn read_only_never_writes(m in method(), path in "/api/v1/[a-z/{}0-9.-]{0,40}") {
            prop_assume!(m != "GET" && m != "HEAD");
            prop_assert!(!TokenScope::ReadOnly.permits(&m, &path));
        }

        /// A statistics token never passes a path outside the statistics routes (and `/me`),
        /// nor a write.
        #[test]
        fn statistics_never_leaves_statistics(m in method(), path in "/[a-z/%.]{0,40}") {
            if TokenScope::Statistics.permits(&m, &path) {
                prop_assert!(m == "GET" || m == "HEAD");
                prop_assert!(path == "/api/v1/me" || path.starts_with("/api/v1/statistics"));
                prop_assert!(!path.contains(".."));
            }
        }

        /// Every scope is a narrowing: whatever it permits, case work permits too.
        #[test]
        fn scopes_only_narrow(m in method(), path in "/[a-z/]{0,30}") {
            for s in TokenScope::ALL {
                if s.permits(&m, &path) {
                    prop_assert!(TokenScope::CaseWork.permits(&m, &path));
                }
            }
        }
    }
}
