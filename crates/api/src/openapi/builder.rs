//! The small vocabulary the document is written in: JSON Schema shorthands ([`string`],
//! [`object`], [`array`], [`schema_ref`] …), the envelopes flowd answers in (a Flow Service
//! list, `{"items": [x]}`, `{id, etag}`), and [`Operation`], one operation under
//! construction with the parameters, body and responses the route really has.
//!
//! Every operation of the API (not the health routes, not the console's public ones) carries
//! the same security requirement (bearer token + `x-api-key`, or the console's session
//! cookie), the `x-gw-ims-org-id` and `x-sandbox-name` headers, and the gateway's refusals
//! (400, 401, 403); a write also takes the console's `x-csrf-token`.

use serde_json::{Map, Value, json};

/// `{"type": "string"}` with a description.
pub fn string(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

/// `{"type": "integer"}` with a description.
pub fn integer(description: &str) -> Value {
    json!({"type": "integer", "description": description})
}

/// An epoch-milliseconds timestamp.
pub fn millis(description: &str) -> Value {
    json!({"type": "integer", "description": format!("{description} (epoch milliseconds)")})
}

/// `{"type": "boolean"}` with a description.
pub fn boolean(description: &str) -> Value {
    json!({"type": "boolean", "description": description})
}

/// An array of `items`.
pub fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

/// A reference to `#/components/schemas/{name}`.
pub fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// An object with `properties` (name, schema) of which `required` are always sent; other
/// members are allowed (flowd keeps what clients send and adds its own fields).
pub fn object(properties: &[(&str, Value)], required: &[&str]) -> Value {
    let properties: Map<String, Value> = properties
        .iter()
        .map(|(name, schema)| ((*name).to_owned(), schema.clone()))
        .collect();
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// The response side of fields a client writes: their descriptions without their types. flowd
/// keeps what it was sent (a draft may hold anything its create allowed), so an answer only
/// promises the fields flowd itself writes.
pub fn as_written<'a>(fields: &[(&'a str, Value)]) -> Vec<(&'a str, Value)> {
    fields
        .iter()
        .map(|(name, schema)| {
            let description = schema["description"]
                .as_str()
                .unwrap_or("as the client wrote it");
            (*name, json!({ "description": description }))
        })
        .collect()
}

/// Any JSON object.
pub fn any_object(description: &str) -> Value {
    json!({"type": "object", "description": description})
}

/// A Flow Service list: `{"items": [...], "_links": {"next"?: {"href"}}}`, or `{"count": n}`
/// with `count=true`.
pub fn flow_list(item: Value) -> Value {
    json!({"anyOf": [
        object(&[("items", array(item)), ("_links", schema_ref("Links"))], &["items", "_links"]),
        schema_ref("Count"),
    ]})
}

/// `{"items": [x]}`: a Flow Service read by id.
pub fn items_of_one(item: Value) -> Value {
    json!({
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": item, "minItems": 1, "maxItems": 1}},
    })
}

/// `{"data": [...], "_page": {"count", "limit"}}`: a Data Access (or Data Prep) page.
pub fn data_page(item: Value) -> Value {
    object(
        &[
            ("data", array(item)),
            (
                "_page",
                object(
                    &[
                        ("count", integer("items on this page")),
                        ("limit", integer("page size")),
                    ],
                    &["count"],
                ),
            ),
        ],
        &["data", "_page"],
    )
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials (health, metrics, the document, the console's shell).
    Public,
    /// A credential or a session, the org header, no sandbox header.
    Org,
    /// A credential or a session, and the org and sandbox headers: every API route.
    Sandbox,
}

/// One operation under construction.
pub struct Operation {
    pub method: &'static str,
    pub path: String,
    access: Access,
    body: Map<String, Value>,
    parameters: Vec<Value>,
    responses: Map<String, Value>,
}

/// An operation `method path` named `operation_id` in `tag`, for callers with an API
/// credential in a sandbox (change with [`Operation::access`]).
pub fn operation(
    method: &'static str,
    path: &str,
    operation_id: &str,
    tag: &str,
    summary: &str,
) -> Operation {
    let mut body = Map::new();
    body.insert("operationId".into(), json!(operation_id));
    body.insert("summary".into(), json!(summary));
    body.insert("tags".into(), json!([tag]));
    Operation {
        method,
        path: path.to_owned(),
        access: Access::Sandbox,
        body,
        parameters: Vec::new(),
        responses: Map::new(),
    }
}

impl Operation {
    pub fn access(mut self, access: Access) -> Operation {
        self.access = access;
        self
    }

    /// A longer description.
    pub fn describe(mut self, description: &str) -> Operation {
        self.body.insert("description".into(), json!(description));
        self
    }

    /// A path parameter `{name}`.
    pub fn path_param(mut self, name: &str, schema: Value, description: &str) -> Operation {
        self.parameters.push(json!({
            "name": name, "in": "path", "required": true,
            "description": description, "schema": schema,
        }));
        self
    }

    /// The `{id}` of a Flow Service resource: a UUID (anything else is `1411-400`).
    pub fn uuid_id(self, noun: &str) -> Operation {
        self.path_param(
            "id",
            json!({"type": "string", "format": "uuid"}),
            &format!("the {noun}'s id (a UUID; anything else is FLOW-1411-400)"),
        )
    }

    /// An optional query parameter.
    pub fn query(mut self, name: &str, schema: Value, description: &str) -> Operation {
        self.parameters.push(json!({
            "name": name, "in": "query", "required": false,
            "description": description, "schema": schema,
        }));
        self
    }

    /// A required query parameter.
    pub fn required_query(mut self, name: &str, schema: Value, description: &str) -> Operation {
        self.parameters.push(json!({
            "name": name, "in": "query", "required": true,
            "description": description, "schema": schema,
        }));
        self
    }

    /// A reusable parameter of `#/components/parameters`.
    pub fn parameter(mut self, name: &str) -> Operation {
        self.parameters
            .push(json!({"$ref": format!("#/components/parameters/{name}")}));
        self
    }

    /// The Flow Service list parameters: `property`, `orderby`, `limit`, `count`,
    /// `continuationToken`.
    pub fn flow_list_parameters(self) -> Operation {
        self.parameter("Property")
            .parameter("OrderBy")
            .parameter("Limit")
            .parameter("Count")
            .parameter("ContinuationToken")
    }

    /// Catalog's list parameters: `limit`, `start`, `orderBy`, `properties`.
    pub fn catalog_list_parameters(self) -> Operation {
        self.parameter("CatalogLimit")
            .parameter("CatalogStart")
            .parameter("CatalogOrderBy")
            .parameter("CatalogProperties")
    }

    /// A JSON request body (required; a missing content type, an empty or malformed body is
    /// `FLOW-1100-400`/`1405-400`, an oversized one `1100-413`).
    pub fn json_body(mut self, schema: Value) -> Operation {
        self.body.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": schema}}}),
        );
        self.error(413)
    }

    /// A JSON success response.
    pub fn reply(self, status: u16, description: &str, schema: Value) -> Operation {
        self.reply_as(status, description, &[("application/json", schema)])
    }

    /// A success response in the given media types.
    pub fn reply_as(
        mut self,
        status: u16,
        description: &str,
        media: &[(&str, Value)],
    ) -> Operation {
        let content: Map<String, Value> = media
            .iter()
            .map(|(media_type, schema)| ((*media_type).to_owned(), json!({"schema": schema})))
            .collect();
        self.responses.insert(
            status.to_string(),
            json!({"description": description, "content": content}),
        );
        self
    }

    /// Links the `status` answer's `id` to the `{id}` of the operations `operation_ids` (a
    /// client, or a stateful fuzzer, goes on from a create to its resource). Call after the
    /// response is added.
    pub fn links(mut self, status: u16, operation_ids: &[String]) -> Operation {
        let links: Map<String, Value> = operation_ids
            .iter()
            .map(|operation_id| {
                (
                    operation_id.clone(),
                    json!({"operationId": operation_id, "parameters": {"path.id": "$response.body#/id"}}),
                )
            })
            .collect();
        if let Some(response) = self.responses.get_mut(&status.to_string()) {
            response["links"] = Value::Object(links);
        }
        self
    }

    /// A success response without a body.
    pub fn reply_empty(mut self, status: u16, description: &str) -> Operation {
        self.responses
            .insert(status.to_string(), json!({"description": description}));
        self
    }

    /// An error response of `#/components/responses` for `status`.
    pub fn error(mut self, status: u16) -> Operation {
        let name = match status {
            400 => "BadRequest",
            401 | 403 => "GatewayRefusal",
            _ => "FlowError",
        };
        self.responses.insert(
            status.to_string(),
            json!({"$ref": format!("#/components/responses/{name}")}),
        );
        self
    }

    /// Several error responses.
    pub fn errors(self, statuses: &[u16]) -> Operation {
        statuses
            .iter()
            .fold(self, |operation, status| operation.error(*status))
    }

    /// The operation object.
    pub fn build(mut self) -> Value {
        let write = !matches!(self.method, "GET" | "HEAD" | "OPTIONS");
        let mut parameters = Vec::new();
        if self.access != Access::Public {
            parameters.push(json!({"$ref": "#/components/parameters/OrgHeader"}));
            if self.access == Access::Sandbox {
                parameters.push(json!({"$ref": "#/components/parameters/SandboxHeader"}));
            }
            if write {
                parameters.push(json!({"$ref": "#/components/parameters/CsrfHeader"}));
            }
            self.body.insert(
                "security".into(),
                json!([{"bearerToken": [], "apiKey": []}, {"sessionCookie": []}]),
            );
            self = self.errors(&[400, 401, 403]);
        } else {
            self.body.insert("security".into(), json!([]));
        }
        if self.access == Access::Sandbox {
            // The request that creates its sandbox says so (any success of a sandbox route).
            for (status, response) in &mut self.responses {
                if let (true, Some(response)) = (status.starts_with('2'), response.as_object_mut())
                    && !response.contains_key("$ref")
                {
                    let headers = response.entry("headers").or_insert_with(|| json!({}));
                    headers[crate::tenant::SANDBOX_CREATED_HEADER] =
                        json!({"$ref": "#/components/headers/SandboxCreated"});
                }
            }
        }
        parameters.append(&mut self.parameters);
        if !parameters.is_empty() {
            self.body
                .insert("parameters".into(), Value::Array(parameters));
        }
        self.responses.insert(
            "default".into(),
            json!({"$ref": "#/components/responses/Error"}),
        );
        self.body
            .insert("responses".into(), Value::Object(self.responses));
        Value::Object(self.body)
    }
}
