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

/// Words that make an auth param a credential whatever its schema says, found anywhere in
/// the name once it is compared under [`normalize_auth_spec_name`] (`apiKey`, `api_key`,
/// `X-Api-Key`, `clientSecret`, `refreshToken`, `userPassword`...).
const CREDENTIAL_WORDS: [&str; 13] = [
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "authkey",
    "privatekey",
    "signingkey",
    "sessionkey",
    "credential",
    "bearer",
];

/// Endings that make a name about a credential rather than one (`accessTokenUrl`,
/// `tokenType`, `tokenExpiresIn`, `secretName`): such params are shown as sent.
const NOT_CREDENTIAL_ENDINGS: [&str; 12] = [
    "url",
    "uri",
    "endpoint",
    "path",
    "type",
    "name",
    "expiry",
    "expiration",
    "expiresin",
    "expiresat",
    "date",
    "ttl",
];

/// Whether an auth param's name says it carries a credential: it contains one of
/// [`CREDENTIAL_WORDS`] and does not end in one of [`NOT_CREDENTIAL_ENDINGS`]. With
/// `format: password` and the KeyBased keys, this is the rule for what is sealed at rest,
/// masked on read and redacted from every message.
pub fn is_credential_name(name: &str) -> bool {
    let normalized = normalize_auth_spec_name(name);
    CREDENTIAL_WORDS
        .iter()
        .any(|word| normalized.contains(word))
        && !NOT_CREDENTIAL_ENDINGS
            .iter()
            .any(|ending| normalized.ends_with(ending))
}

/// Whether `name` is a key of a KeyBased auth spec whose params schema is `schema`: a
/// property with a `restAttributes.headerParamName`, or any `authKeyN` (sent under its own
/// name when the schema names no header).
pub fn is_key_param(schema: &Value, name: &str) -> bool {
    let has_header_name = schema
        .pointer("/properties")
        .and_then(|properties| properties.get(name))
        .and_then(|property| property.pointer("/restAttributes/headerParamName"))
        .is_some_and(Value::is_string);
    has_header_name || name.starts_with("authKey")
}

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
    /// Whether the auth param `name` carries a credential: declared `format: password`, a
    /// key of a KeyBased spec ([`is_key_param`]), or named like one ([`is_credential_name`]).
    pub fn is_secret_param(&self, name: &str) -> bool {
        is_credential_name(name)
            || (self.auth_type == AuthType::KeyBased && is_key_param(&self.schema, name))
            || secret_properties(&self.schema)
                .iter()
                .any(|secret| secret == name)
    }

    /// The secrets among `params` and the schema's declared properties, in that order,
    /// each once.
    pub fn secret_param_names(&self, params: &serde_json::Map<String, Value>) -> Vec<String> {
        let declared = self
            .schema
            .pointer("/properties")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|properties| properties.keys());
        let mut names: Vec<String> = Vec::new();
        for name in params.keys().chain(declared) {
            if self.is_secret_param(name) && !names.contains(name) {
                names.push(name.clone());
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

/// The elements of `connection_spec`'s `authSpec` that resolve, ignoring the problems of the
/// others (validation reports those).
pub(crate) fn readable_auth_specs(connection_spec: &Value) -> Vec<AuthSpec> {
    let auth_specs = connection_spec.get("authSpec").unwrap_or(&Value::Null);
    read_auth_specs(auth_specs, true, &mut Vec::new())
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
                problems.push(Problem::new(&spec_pointer, "is required"));
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
                problems.push(Problem::new(&spec_pointer, "must be a JSON Schema object"));
                None
            }
        };
        if let (Some(AuthType::KeyBased), Some(schema)) = (auth_type, &schema) {
            key_header_problems(schema, &spec_pointer, problems);
        }
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

/// The headers a KeyBased schema names must be ones a key can be sent in.
fn key_header_problems(schema: &Value, spec_pointer: &str, problems: &mut Vec<Problem>) {
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, property) in properties.into_iter().flatten() {
        let Some(header) = property
            .pointer("/restAttributes/headerParamName")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let pointer = format!(
            "{}/restAttributes/headerParamName",
            child_pointer(&child_pointer(spec_pointer, "properties"), name)
        );
        if let Err(reason) = crate::header::header_name_problem(header) {
            problems.push(Problem::new(pointer, reason));
        } else if crate::header::is_client_owned(header) {
            problems.push(Problem::new(
                pointer,
                format!("{header} is set by the HTTP client; a key cannot be sent in it"),
            ));
        }
    }
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
    fn keys_credential_names_and_password_formats_are_secrets_without_being_declared_so() {
        let specs = AuthSpecs::resolve(&spec(json!([
            {"name": "k", "type": "KeyBased", "spec": {"properties": {
                "host": {"type": "string"},
                "authKey1": {"type": "string"},
                "tenantKey": {"type": "string", "restAttributes": {"headerParamName": "X-Tenant-Key"}},
                "pin": {"type": "string", "format": "password"}
            }}},
            {"name": "b", "type": "BasicAuthentication", "spec": {"properties": {
                "tenantKey": {"type": "string", "restAttributes": {"headerParamName": "X-Tenant-Key"}}
            }}}
        ])))
        .unwrap();
        let params = json!({"host": "h", "apiKey": "a", "authKey2": "b", "region": "eu",
            "accessTokenUrl": "https://auth.example.com/token", "api_secret": "c"});
        let params = params.as_object().unwrap();
        assert_eq!(
            specs.find("k").unwrap().secret_param_names(params),
            [
                "apiKey",
                "authKey2",
                "api_secret",
                "authKey1",
                "tenantKey",
                "pin"
            ]
        );
        // A header name is a key only for KeyBased specs.
        assert_eq!(
            specs.find("b").unwrap().secret_param_names(params),
            ["apiKey", "authKey2", "api_secret"]
        );
    }

    #[test]
    fn credential_names_are_told_from_names_about_credentials() {
        for secret in [
            "password",
            "accessToken",
            "refreshToken",
            "clientSecret",
            "apiKey",
            "api_key",
            "X-Api-Key",
            "token",
            "userPassword",
            "privateKey",
            "bearerToken",
            "credentials",
            "sharedSecret",
            "authKey9",
        ] {
            assert!(is_credential_name(secret), "{secret} is a credential");
        }
        for shown in [
            "host",
            "username",
            "clientId",
            "accessTokenUrl",
            "tokenType",
            "tokenExpiresIn",
            "expirationDate",
            "secretName",
            "domain",
            "region",
            "keyPath",
        ] {
            assert!(!is_credential_name(shown), "{shown} is not a credential");
        }
    }
}
