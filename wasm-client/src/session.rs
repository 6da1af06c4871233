//! The login this browser profile holds (stored in the `meta` store, like the CLI profile's
//! meta table): server, user, token, role and territories.

use protocol::Role;
use protocol::rules::Principal;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Session {
    /// `http://host:port` (the origin the app was served from).
    pub server: Option<String>,
    pub user: String,
    pub token: Option<String>,
    /// UTC ms.
    pub expires_at: Option<i64>,
    pub role: Option<Role>,
    pub territory: Option<String>,
    pub territories: Vec<String>,
}

/// What `POST /api/login` answers.
#[derive(Debug, Deserialize)]
pub struct LoginAnswer {
    pub token: String,
    #[serde(default)]
    pub expires_at: String,
    pub user: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub territory: Option<String>,
    #[serde(default)]
    pub territories: Option<Vec<String>>,
}

impl Session {
    pub fn from_meta(meta: &HashMap<String, String>) -> Session {
        let get = |k: &str| meta.get(k).filter(|v| !v.is_empty()).cloned();
        let territory = get("territory");
        let territories = get("territories")
            .and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
            .unwrap_or_else(|| territory.iter().cloned().collect());
        Session {
            server: get("server"),
            user: get("user").unwrap_or_default(),
            token: get("token"),
            expires_at: get("token_expires_at").and_then(|t| protocol::time::parse_rfc3339(&t)),
            role: get("role").and_then(|r| r.parse().ok()),
            territory,
            territories,
        }
    }

    /// The meta entries to store for a successful login (None deletes).
    pub fn login_meta(server: &str, a: &LoginAnswer) -> Vec<(&'static str, Option<String>)> {
        let territories = a.territories.clone().unwrap_or_else(|| a.territory.iter().cloned().collect());
        vec![
            ("server", Some(server.trim_end_matches('/').to_string())),
            ("user", Some(a.user.clone())),
            ("token", Some(a.token.clone())),
            ("token_expires_at", Some(a.expires_at.clone())),
            ("role", Some(a.role.clone())),
            ("territory", Some(a.territory.clone().unwrap_or_default())),
            ("territories", Some(serde_json::to_string(&territories).unwrap_or_default())),
        ]
    }

    pub fn principal(&self) -> Option<Principal> {
        Some(Principal { user: self.user.clone(), role: self.role?, territories: self.territories.clone() })
    }

    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }

    /// `ws://host:port/sync?token=T` (browsers cannot set headers on a WebSocket).
    pub fn ws_url(&self) -> Option<String> {
        let server = self.server.as_deref()?;
        let token = self.token.as_deref()?;
        let base = if let Some(rest) = server.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = server.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            return None;
        };
        Some(format!("{base}/sync?token={token}"))
    }

    pub fn health_url(&self) -> Option<String> {
        Some(format!("{}/health", self.server.as_deref()?))
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "user": self.user,
            "server": self.server,
            "logged_in": self.token.is_some(),
            "role": self.role.map(|r| r.as_str()),
            "territory": self.territory,
            "territories": self.territories,
            "expires_at": self.expires_at.map(protocol::time::rfc3339),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_round_trips_through_meta() {
        let answer: LoginAnswer = serde_json::from_str(
            r#"{"token":"abc123","expires_at":"2030-01-01T00:00:00.000Z","user":"li","role":"rep","territory":"贵州"}"#,
        )
        .unwrap();
        let meta: HashMap<String, String> = Session::login_meta("http://127.0.0.1:8080/", &answer)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.unwrap()))
            .collect();
        let s = Session::from_meta(&meta);
        assert_eq!(s.ws_url().as_deref(), Some("ws://127.0.0.1:8080/sync?token=abc123"));
        assert_eq!(s.health_url().as_deref(), Some("http://127.0.0.1:8080/health"));
        assert_eq!(s.principal().unwrap().territories, vec!["贵州".to_string()]);
        assert!(!s.expired(0) && s.expired(i64::MAX));
        let https = Session { server: Some("https://sync.example".into()), token: Some("t".into()), ..s };
        assert_eq!(https.ws_url().as_deref(), Some("wss://sync.example/sync?token=t"));
        assert_eq!(Session::default().ws_url(), None);
    }
}
