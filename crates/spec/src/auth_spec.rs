//! The auth specs of a connection spec (`authSpec[]`, reference §4), resolved into a closed
//! enum of the authentication types flowd runs, with one rule for telling names apart.
//!
//! A base connection picks its auth spec with `auth.specName`, matched against
//! `authSpec[].name`, then `authSpec[].type`, under [`normalize_auth_spec_name`]: letter case
//! and every character that is not a letter or digit are ignored, so the spellings Adobe's own
//! documents use for one spec (`OAuth2 Refresh Code`, `OAuth 2 Refresh Code`,
//! `oAuth2RefreshCode`) all find it. Validation uses the same rule for uniqueness, so two names
//! that one lookup cannot tell apart (`OAuth 2` and `OAuth2`) are refused when the spec is
//! written, not discovered when a connection picks one.

use serde_json::Value;

use crate::json_schema::secret_properties;
use crate::problem::{Problem, child_pointer, index_pointer};

/// Params that hold credentials for every auth type, whatever the schema says: they are
/// sealed at rest, masked on read and redacted from every message.
pub const ALWAYS_SECRET_PARAMS: [&str; 4] =
    ["password", "accessToken", "refreshToken", "clientSecret"];

/// The authentication types flowd runs. A closed set: a spec naming another type is refused
/// when it is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthType {
    /// `Authorization: Basic base64(username:password)`.
    BasicAuthentication,
    /// A bearer access token, refreshed with the refresh token when it expires.
    OAuth2RefreshCode,
    /// One header per `authKeyN`, named by its `restAttributes.headerParamName`.
    KeyBased,
}

impl AuthType {
    pub const ALL: [AuthType; 3] = [
        AuthType::BasicAuthentication,
        AuthType::OAuth2RefreshCode,
        AuthType::KeyBased,
    ];

    /// The canonical spelling of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::BasicAuthentication => "BasicAuthentication",
            AuthType::OAuth2RefreshCode => "OAuth2RefreshCode",
            AuthType::KeyBased => "KeyBased",
        }
    }

    /// The type `type_text` names: its canonical spelling or one of the aliases seen in
    /// Adobe's material (`oAuth2-refresh-code`, `Basic`, `API Key Authentication`), compared
    /// under [`normalize_auth_spec_name`].
    pub fn parse(type_text: &str) -> Option<AuthType> {
        match normalize_auth_spec_name(type_text).as_str() {
            "basicauthentication" | "basic" => Some(AuthType::BasicAuthentication),
            "oauth2refreshcode" => Some(AuthType::OAuth2RefreshCode),
            "keybased" | "apikeyauthentication" | "apikey" => Some(AuthType::KeyBased),
            _ => None,
        }
    }

    fn supported_list() -> String {
        let names: Vec<&str> = AuthType::ALL
            .iter()
            .map(|auth_type| auth_type.as_str())
            .collect();
        names.join(", ")
    }
}

/// The form under which auth spec names and types are compared: lowercase ASCII letters and
/// digits only.
pub fn normalize_auth_spec_name(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|character| character.to_ascii_lowercase())
        .collect()
}

/// One resolved `authSpec[]` element.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthSpec {
    pub name: String,
    pub auth_type: AuthType,
    /// The JSON Schema of the connection's `auth.params`.
    pub schema: Value,
    /// Position in `authSpec`.
    pub index: usize,
}

impl AuthSpec {
    /// Param names that hold secrets: `format: password` in the schema, plus
    /// [`ALWAYS_SECRET_PARAMS`].
    pub fn secret_param_names(&self) -> Vec<String> {
        let mut names = secret_properties(&self.schema);
        for always_secret in ALWAYS_SECRET_PARAMS {
            if !names.iter().any(|name| name == always_secret) {
                names.push(always_secret.to_owned());
            }
        }
        names
    }
}

/// The resolved `authSpec` array of a generic-rest connection spec.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuthSpecs {
    specs: Vec<AuthSpec>,
}

impl AuthSpecs {
    /// Resolves the `authSpec` member of `connection_spec`; every problem at once, with
    /// pointers under `/authSpec`.
    pub fn resolve(connection_spec: &Value) -> Result<AuthSpecs, Vec<Problem>> {
        let auth_specs = connection_spec.get("authSpec").unwrap_or(&Value::Null);
        let mut problems = Vec::new();
        let specs = read_auth_specs(auth_specs, true, &mut problems);
        if problems.is_empty() {
            Ok(AuthSpecs { specs })
        } else {
            Err(problems)
        }
    }

    /// The auth spec `spec_name` designates: by name, then by type (see the module docs).
    pub fn find(&self, spec_name: &str) -> Option<&AuthSpec> {
        let wanted = normalize_auth_spec_name(spec_name);
        self.specs
            .iter()
            .find(|spec| normalize_auth_spec_name(&spec.name) == wanted)
            .or_else(|| {
                self.specs
                    .iter()
                    .find(|spec| normalize_auth_spec_name(spec.auth_type.as_str()) == wanted)
            })
            .or_else(|| {
                // A spec name written like one of a type's aliases (`oAuth2-refresh-code`).
                let auth_type = AuthType::parse(spec_name)?;
                self.specs.iter().find(|spec| spec.auth_type == auth_type)
            })
    }

    pub fn iter(&self) -> impl Iterator<Item = &AuthSpec> {
        self.specs.iter()
    }
}

/// Checks `authSpec` as validation does: shape, unique names under
/// [`normalize_auth_spec_name`], and (when `require_supported_type`) a type flowd runs.
pub(crate) fn auth_spec_problems(
    auth_specs: &Value,
    require_supported_type: bool,
    problems: &mut Vec<Problem>,
) {
    read_auth_specs(auth_specs, require_supported_type, problems);
}

fn read_auth_specs(
    auth_specs: &Value,
    require_supported_type: bool,
    problems: &mut Vec<Problem>,
) -> Vec<AuthSpec> {
    let Some(elements) = auth_specs.as_array() else {
        problems.push(Problem::new("/authSpec", "must be an array"));
        return Vec::new();
    };
    let mut specs = Vec::new();
    let mut seen_names: Vec<(String, usize)> = Vec::new();
    for (index, element) in elements.iter().enumerate() {
        let element_pointer = index_pointer("/authSpec", index);
        let Some(members) = element.as_object() else {
            problems.push(Problem::new(element_pointer, "must be an object"));
            continue;
        };
        let name_pointer = child_pointer(&element_pointer, "name");
        let name = non_empty_string(members.get("name"), &name_pointer, problems);
        if let Some(name) = name {
            let normalized = normalize_auth_spec_name(name);
            match seen_names.iter().find(|(seen, _)| *seen == normalized) {
                Some((_, first_index)) => problems.push(Problem::new(
                    &name_pointer,
                    format!(
                        "cannot be told apart from the name of /authSpec/{first_index} (names are compared ignoring case, spaces and punctuation)"
                    ),
                )),
                None => seen_names.push((normalized, index)),
            }
        }
        let type_pointer = child_pointer(&element_pointer, "type");
        let auth_type =
            non_empty_string(members.get("type"), &type_pointer, problems).and_then(|type_text| {
                let auth_type = AuthType::parse(type_text);
                if auth_type.is_none() && require_supported_type {
                    problems.push(Problem::new(
                        &type_pointer,
                        format!(
                            "auth type {type_text} is not supported; flowd runs {}",
                            AuthType::supported_list()
                        ),
                    ));
                }
                auth_type
            });
        let spec_pointer = child_pointer(&element_pointer, "spec");
        let schema = match members.get("spec") {
            None => {
                problems.push(Problem::new(spec_pointer, "is required"));
                None
            }
            Some(spec @ Value::Object(_)) => {
                problems.extend(crate::json_schema::schema_definition_problems(
                    spec,
                    &spec_pointer,
                ));
                Some(spec.clone())
            }
            Some(_) => {
                problems.push(Problem::new(spec_pointer, "must be a JSON Schema object"));
                None
            }
        };
        if let (Some(name), Some(auth_type), Some(schema)) = (name, auth_type, schema) {
            specs.push(AuthSpec {
                name: name.to_owned(),
                auth_type,
                schema,
                index,
            });
        }
    }
    specs
}

fn non_empty_string<'a>(
    value: Option<&'a Value>,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<&'a str> {
    match value {
        None => {
            problems.push(Problem::new(pointer, "is required"));
            None
        }
        Some(Value::String(text)) if !text.is_empty() => Some(text),
        Some(_) => {
            problems.push(Problem::new(pointer, "must be a non-empty string"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(auth_specs: Value) -> Value {
        json!({"authSpec": auth_specs})
    }

    fn schema() -> Value {
        json!({"type": "object", "properties": {"accessToken": {"type": "string", "format": "password"}}})
    }

    #[test]
    fn spec_names_match_by_name_then_type_ignoring_case_and_spacing() {
        let specs = AuthSpecs::resolve(&spec(json!([
            {"name": "OAuth2 Refresh Code", "type": "OAuth2RefreshCode", "spec": schema()},
            {"name": "Basic Authentication", "type": "BasicAuthentication", "spec": schema()}
        ])))
        .unwrap();
        for (spec_name, expected) in [
            ("OAuth2 Refresh Code", AuthType::OAuth2RefreshCode),
            ("OAuth 2 Refresh Code", AuthType::OAuth2RefreshCode),
            ("oAuth2RefreshCode", AuthType::OAuth2RefreshCode),
            ("oAuth2-refresh-code", AuthType::OAuth2RefreshCode),
            ("basic authentication", AuthType::BasicAuthentication),
            ("BasicAuthentication", AuthType::BasicAuthentication),
        ] {
            assert_eq!(
                specs.find(spec_name).expect(spec_name).auth_type,
                expected,
                "{spec_name}"
            );
        }
        assert!(specs.find("KeyBased").is_none());
    }

    #[test]
    fn unsupported_types_and_indistinguishable_names_are_refused() {
        let problems = AuthSpecs::resolve(&spec(json!([
            {"name": "OAuth 2", "type": "OAuth2RefreshCode", "spec": schema()},
            {"name": "OAuth2", "type": "OAuth2RefreshCode", "spec": schema()},
            {"name": "Nothing", "type": "None", "spec": schema()}
        ])))
        .unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "/authSpec/1/name: cannot be told apart from the name of /authSpec/0 (names are compared ignoring case, spaces and punctuation)",
                "/authSpec/2/type: auth type None is not supported; flowd runs BasicAuthentication, OAuth2RefreshCode, KeyBased",
            ]
        );
    }

    #[test]
    fn secret_params_include_the_names_every_type_uses() {
        let specs = AuthSpecs::resolve(&spec(json!([
            {"name": "k", "type": "KeyBased", "spec": {"properties": {"authKey1": {"format": "password"}}}}
        ])))
        .unwrap();
        let names = specs.find("k").unwrap().secret_param_names();
        assert_eq!(
            names,
            [
                "authKey1",
                "password",
                "accessToken",
                "refreshToken",
                "clientSecret"
            ]
        );
    }
}
