//! `BasicAuthentication`: `Authorization: Basic base64(username:password)`.

use base64::Engine;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::{AuthError, header, required_string};
use crate::secret::{Redactor, Secret};

const AUTH_TYPE: &str = "BasicAuthentication";

/// Username and password, ready as one header.
#[derive(Debug)]
pub struct BasicAuthentication {
    pub username: String,
    authorization: Secret,
}

impl BasicAuthentication {
    pub fn from_params(
        params: &Map<String, Value>,
        redactor: &mut Redactor,
    ) -> Result<BasicAuthentication, AuthError> {
        let username = required_string(params, "username", AUTH_TYPE)?;
        let password = required_string(params, "password", AUTH_TYPE)?;
        redactor.add(&password);
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        redactor.add(&encoded);
        Ok(BasicAuthentication {
            username,
            authorization: Secret::new(format!("Basic {encoded}")),
        })
    }

    /// The `Authorization` header.
    pub fn headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, AuthError> {
        let (_, value) = header(AUTHORIZATION.as_str(), self.authorization.expose())?;
        Ok(vec![(AUTHORIZATION, value)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn basic_credentials_become_one_authorization_header() {
        let params = json!({"username": "anna", "password": "open sesame"});
        let mut redactor = Redactor::default();
        let basic =
            BasicAuthentication::from_params(params.as_object().unwrap(), &mut redactor).unwrap();
        let headers = basic.headers().unwrap();
        assert_eq!(headers[0].0, AUTHORIZATION);
        assert_eq!(headers[0].1, "Basic YW5uYTpvcGVuIHNlc2FtZQ==");
        assert!(headers[0].1.is_sensitive());
        assert_eq!(
            redactor.redact("Basic YW5uYTpvcGVuIHNlc2FtZQ=="),
            "Basic <redacted>"
        );
        assert!(!format!("{basic:?}").contains("sesame"));
    }

    #[test]
    fn a_missing_password_is_named() {
        let params = json!({"username": "anna"});
        let error =
            BasicAuthentication::from_params(params.as_object().unwrap(), &mut Redactor::default())
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "auth param password is required for BasicAuthentication"
        );
    }
}
