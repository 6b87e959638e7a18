//! Data Prep (`/data/foundation/conversion`: mapping sets, their mappings, validation, preview,
//! the expression language) and the Schema Registry's tenant schemas
//! (`/data/foundation/schemaregistry`).

use serde_json::{Value, json};

use super::builder::{
    Access, Operation, any_object, array, data_page, integer, millis, object, operation,
    schema_ref, string,
};
use crate::{CONVERSION_BASE_PATH, SCHEMA_REGISTRY_BASE_PATH};

const DATA_PREP: &str = "Data Prep";
const REGISTRY: &str = "Schema Registry";

/// Data Prep's and the registry's schemas.
pub fn add_schemas(add: &mut dyn FnMut(&str, Value)) {
    let summary_fields = [
        ("id", string("the mapping set (32 hex characters)")),
        ("version", integer("its version (0 for the first)")),
        ("createdDate", millis("created")),
        ("modifiedDate", millis("this version written")),
        ("createdBy", string("who created it")),
        ("modifiedBy", string("who wrote this version")),
    ];
    add(
        "MappingSetSummary",
        object(&summary_fields, &["id", "version"]),
    );
    add(
        "MappingSet",
        object(
            &[
                &summary_fields[..],
                &[
                    ("name", string("its name")),
                    ("outputSchema", any_object("{id, version, schemaRef}")),
                    (
                        "schemaRef",
                        any_object("the schema it writes: {id, contentType}"),
                    ),
                    ("xdmSchema", string("the schema's id")),
                    ("mappings", array(schema_ref("Mapping"))),
                    ("status", string("PUBLISHED")),
                ][..],
            ]
            .concat(),
            &["id", "version", "mappings"],
        ),
    );
    add(
        "Mapping",
        object(
            &[
                ("id", string("the mapping")),
                ("sourceType", string("ATTRIBUTE, EXPRESSION or CONSTANT")),
                ("source", string("the source path or expression")),
                ("destination", string("the destination path")),
                ("sourceAttribute", string("the tutorials' name of source")),
                (
                    "destinationXdmPath",
                    string("the tutorials' name of destination"),
                ),
            ],
            &[],
        ),
    );
    add(
        "MappingSetBody",
        any_object(
            "a mapping set in either dialect: outputSchema.schemaRef with {sourceType, source, destination}, or xdmSchema with {sourceAttribute, destinationXdmPath}; every mapping is parsed, problems at /mappings/N/source",
        ),
    );
    add(
        "RegistrySchema",
        object(
            &[
                (
                    "$id",
                    string("https://ns.adobe.com/{tenant}/schemas/{32 hex}"),
                ),
                ("meta:altId", string("_{tenant}.schemas.{hex}")),
                ("title", string("its title")),
                ("version", string("1.0")),
                ("type", string("object")),
                (
                    "meta:class",
                    string("its class (the ad hoc class unless given)"),
                ),
            ],
            &["$id", "meta:altId", "title"],
        ),
    );
    add(
        "RegistrySchemaBody",
        object(
            &[
                ("title", string("its title")),
                ("type", json!({"type": "string", "enum": ["object"]})),
                ("description", string("its description")),
                ("properties", any_object("its fields, read as XDM")),
                ("definitions", any_object("field groups defined inline")),
                ("allOf", array(any_object("a {$ref}"))),
                ("meta:class", string("its class")),
            ],
            &["title", "type"],
        ),
    );
}

fn conversion(suffix: &str) -> String {
    format!("{CONVERSION_BASE_PATH}{suffix}")
}

fn mapping_set_id(operation: Operation) -> Operation {
    operation.path_param(
        "id",
        json!({"type": "string", "pattern": "^[0-9a-f]{32}$"}),
        "the mapping set's id (32 hex characters)",
    )
}

fn mapping_id(operation: Operation) -> Operation {
    mapping_set_id(operation).path_param(
        "mapping_id",
        json!({"type": "string"}),
        "the mapping's id",
    )
}

/// Data Prep's operations.
pub fn operations() -> Vec<Operation> {
    let summary = || schema_ref("MappingSetSummary");
    vec![
        operation("GET", &conversion("/mappingSets"), "list_mapping_sets", DATA_PREP, "List the sandbox's mapping sets")
            .query("limit", json!({"type": "integer", "minimum": 0, "maximum": 1000}), "the page size (10)")
            .query("start", json!({"type": "integer", "minimum": 0}), "the offset")
            .query("name", json!({"type": "string"}), "only names containing this")
            .query("orderBy", json!({"type": "string"}), "±createdDate or ±modifiedDate")
            .reply(200, "a page of mapping sets", data_page(schema_ref("MappingSet"))),
        operation("POST", &conversion("/mappingSets"), "create_mapping_set", DATA_PREP, "Create a mapping set")
            .json_body(schema_ref("MappingSetBody"))
            .reply(200, "the new set's version 0", summary()),
        operation("POST", &conversion("/mappingSets/validate"), "validate_mapping_set", DATA_PREP, "Validate a mapping set's mappings")
            .access(Access::Public)
            .json_body(schema_ref("MappingSetBody"))
            .reply(200, "one answer per mapping", object(&[("validationResponse", array(object(&[
                ("status", json!({"type": "string", "enum": ["SUCCESS", "FAILED"]})),
                ("errors", json!({"type": ["array", "null"]})),
            ], &["status"])))], &["validationResponse"])),
        operation("POST", &conversion("/mappingSets/preview"), "preview_mapping_set", DATA_PREP, "Apply a mapping set to sample records")
            .json_body(object(&[("mappingSet", schema_ref("MappingSetBody")), ("data", array(any_object("a record")))], &["mappingSet"]))
            .reply(200, "each record mapped, with its errors", array(object(&[("data", json!({})), ("errors", array(any_object("an exception")))], &["data", "errors"]))),
        mapping_set_id(operation("GET", &conversion("/mappingSets/{id}"), "read_mapping_set", DATA_PREP, "Read a mapping set's version"))
            .query("version", json!({"type": "integer", "minimum": 0}), "the version (the latest without)")
            .reply(200, "the version", schema_ref("MappingSet"))
            .error(404),
        mapping_set_id(operation("PUT", &conversion("/mappingSets/{id}"), "update_mapping_set", DATA_PREP, "Write the next version of a mapping set"))
            .json_body(schema_ref("MappingSetBody"))
            .reply(200, "the new version", schema_ref("MappingSet"))
            .error(404),
        mapping_set_id(operation("DELETE", &conversion("/mappingSets/{id}"), "delete_mapping_set", DATA_PREP, "Delete a mapping set"))
            .reply(200, "the deleted set", summary())
            .error(404),
        mapping_set_id(operation("GET", &conversion("/mappingSets/{id}/mappings"), "list_mappings", DATA_PREP, "The latest version's mappings"))
            .reply(200, "the mappings", array(schema_ref("Mapping")))
            .error(404),
        mapping_set_id(operation("POST", &conversion("/mappingSets/{id}/mappings"), "add_mapping", DATA_PREP, "Add a mapping (a new version)"))
            .json_body(schema_ref("Mapping"))
            .reply(200, "the added mapping", summary())
            .error(404),
        mapping_id(operation("GET", &conversion("/mappingSets/{id}/mappings/{mapping_id}"), "read_mapping", DATA_PREP, "Read a mapping"))
            .reply(200, "the mapping", schema_ref("Mapping"))
            .error(404),
        mapping_id(operation("PUT", &conversion("/mappingSets/{id}/mappings/{mapping_id}"), "replace_mapping", DATA_PREP, "Replace a mapping (a new version)"))
            .json_body(schema_ref("Mapping"))
            .reply(200, "the mapping", schema_ref("Mapping"))
            .error(404),
        mapping_id(operation("DELETE", &conversion("/mappingSets/{id}/mappings/{mapping_id}"), "delete_mapping", DATA_PREP, "Remove a mapping (a new version)"))
            .reply(200, "the removed mapping", summary())
            .error(404),
        operation("POST", &conversion("/languages/el/validate"), "validate_expression", DATA_PREP, "Parse an expression")
            .access(Access::Public)
            .json_body(json!({"anyOf": [{"type": "string"}, object(&[("expression", string("the expression"))], &["expression"])]}))
            .reply(200, "whether it parses", object(&[
                ("validationStatus", json!({"type": "string", "enum": ["succeeded", "failed"]})),
                ("error", string("none, or why not")),
                ("position", integer("where it fails")),
            ], &["validationStatus", "error"])),
        operation("GET", &conversion("/languages/el/functions"), "list_functions", DATA_PREP, "The expression language's functions")
            .access(Access::Public)
            .reply(200, "the functions", array(object(&[("category", string("its family")), ("function", string("its name")), ("syntax", string("how it is called"))], &["function"]))),
        operation("GET", &conversion("/languages/el/operators"), "list_operators", DATA_PREP, "The expression language's operators")
            .access(Access::Public)
            .reply(200, "the operators", array(object(&[("operatorSymbol", string("the symbol")), ("methodName", string("its name")), ("numberOfOperands", integer("its arity")), ("description", string("what it does"))], &["operatorSymbol"]))),
    ]
}

/// The Schema Registry's operations.
pub fn registry_operations() -> Vec<Operation> {
    let at = format!("{SCHEMA_REGISTRY_BASE_PATH}/tenant/schemas");
    let one = format!("{at}/{{id}}");
    let id = |operation: Operation| {
        operation.path_param(
            "id",
            json!({"type": "string"}),
            "the schema's URL-encoded $id, or its meta:altId",
        )
    };
    vec![
        operation("GET", &at, "list_schemas", REGISTRY, "List the sandbox's schemas by title")
            .query("limit", json!({"type": "integer", "minimum": 1, "maximum": 300}), "the page size")
            .query("start", json!({"type": "integer", "minimum": 0}), "the _page.next of the previous page")
            .query("orderby", json!({"type": "string", "enum": ["title", "+title", "-title"]}), "by title")
            .describe("Accept: application/vnd.adobe.xed-id+json answers ids and titles, application/vnd.adobe.xed-full+json full documents")
            .reply(200, "a page of schemas (ids, or full documents with the xed-full media type)", object(&[
                ("results", array(schema_ref("RegistrySchema"))),
                ("_page", object(&[("orderby", string("title or -title")), ("next", json!({"type": ["string", "null"]})), ("count", integer("results on this page"))], &["count"])),
                ("_links", any_object("next.href")),
            ], &["results", "_page", "_links"])),
        operation("POST", &at, "create_schema", REGISTRY, "Create a tenant schema")
            .json_body(schema_ref("RegistrySchemaBody"))
            .reply(201, "the full document", schema_ref("RegistrySchema")),
        id(operation("GET", &one, "read_schema", REGISTRY, "Read a schema"))
            .reply(200, "the full document", schema_ref("RegistrySchema"))
            .error(404),
        id(operation("DELETE", &one, "delete_schema", REGISTRY, "Delete a schema"))
            .reply_empty(204, "deleted")
            .error(404),
    ]
}
