//! `KeyBased` ("API Key Authentication"): one header per key param, named
//! by the param's `restAttributes.headerParamName` in the auth spec's schema
//! (reference §4.4). A key param without that attribute is sent under its
//! own name, so a spec that omits the attribute still authenticates.

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::{AuthError, header};
use crate::secret::{Redactor, Secret};

/// The key headers of a connection.
#[derive(Debug)]
pub struct KeyBasedAuthentication {
    keys: Vec<(String, Secret)>,
}

impl KeyBasedAuthentication {
    pub fn from_params(
        schema: &Value,
        params: &Map<String, Value>,
        redactor: &mut Redactor,
    ) -> Result<KeyBasedAuthentication, AuthError> {
        let properties = schema.get("properties").and_then(Value::as_object);
        let mut keys = Vec::new();
        for (name, value) in params {
            let property = properties.and_then(|properties| properties.get(name));
            if !flowd_spec::is_key_param(schema, name) {
                continue;
            }
            let Some(value) = value.as_str().filter(|value| !value.is_empty()) else {
                continue;
            };
            let header_name = property
                .and_then(|property| property.pointer("/restAttributes/headerParamName"))
                .and_then(Value::as_str)
                .unwrap_or(name);
            redactor.add(value);
            keys.push((header_name.to_owned(), Secret::new(value)));
        }
        if keys.is_empty() {
            return Err(AuthError::MissingParam {
                name: "authKey1".to_owned(),
                auth_type: "KeyBased".to_owned(),
            });
        }
        Ok(KeyBasedAuthentication { keys })
    }

    /// The names of the key headers, in the order of the params.
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(name, _)| name.as_str())
    }

    /// The key headers, in the order of the params.
    pub fn headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, AuthError> {
        self.keys
            .iter()
            .map(|(name, value)| header(name, value.expose()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_key_goes_in_the_header_its_schema_names() {
        let schema = json!({"properties": {
            "host": {"type": "string"},
            "authKey1": {"type": "string", "format": "password", "restAttributes": {"headerParamName": "X-Auth-Key1"}},
            "authKey2": {"type": "string", "format": "password", "restAttributes": {"headerParamName": "X-Other"}},
            "authKey3": {"type": "string", "format": "password"}
        }});
        let params = json!({"host": "https://api.example.com", "authKey1": "k-one", "authKey2": "k-two", "authKey3": "k-three"});
        let mut redactor = Redactor::default();
        let auth = KeyBasedAuthentication::from_params(
            &schema,
            params.as_object().unwrap(),
            &mut redactor,
        )
        .unwrap();
        let headers: Vec<(String, String)> = auth
            .headers()
            .unwrap()
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect();
        assert_eq!(
            headers,
            [
                ("x-auth-key1".to_owned(), "k-one".to_owned()),
                ("x-other".to_owned(), "k-two".to_owned()),
                ("authkey3".to_owned(), "k-three".to_owned())
            ]
        );
        assert_eq!(redactor.redact("k-one k-two"), "<redacted> <redacted>");
    }
}
