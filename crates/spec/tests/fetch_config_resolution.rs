//! What the valid fixtures resolve to: the typed [`FetchConfig`] a runtime receives, checked
//! field by field for the shapes whose lenient reading is easy to get wrong.

use std::path::Path;

use flowd_spec::{
    AttributeFilter, EndPageIndex, FetchConfig, HttpMethod, NamedTemplate, Pagination, Schedule,
    SourceShape, TokenParameterLocation, resolve_source_fetch_config, source_shape,
};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/connection_specs/valid")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture exists"))
        .expect("fixture is JSON")
}

fn resolve(name: &str) -> FetchConfig {
    resolve_source_fetch_config(&fixture(name), &Value::Null)
        .unwrap_or_else(|problems| panic!("{name} does not resolve: {problems:?}"))
}

fn named(pairs: &[(&str, &str)]) -> Vec<NamedTemplate> {
    pairs
        .iter()
        .map(|(name, template)| NamedTemplate {
            name: (*name).into(),
            template: (*template).into(),
        })
        .collect()
}

#[test]
fn mailchimp_members_resolves_as_documented() {
    let fetch_config = resolve("mailchimp_members_create.json");
    assert_eq!(
        fetch_config.url.host.as_deref(),
        Some("https://${domain}.api.mailchimp.com")
    );
    assert_eq!(fetch_config.url.path, "/3.0/lists/${listId}/members");
    assert_eq!(fetch_config.url.method, HttpMethod::Get);
    assert_eq!(fetch_config.content_path.path_text, "$.members");
    assert_eq!(fetch_config.content_path.wrapper.as_deref(), Some("member"));
    assert_eq!(
        fetch_config.content_path.attribute_filter,
        AttributeFilter::Skip(vec![
            "_links".into(),
            "total_items".into(),
            "list_id".into()
        ])
    );
    let Pagination::Offset(offset) = &fetch_config.pagination else {
        panic!("expected OFFSET, got {:?}", fetch_config.pagination);
    };
    assert_eq!(offset.page_size.parameter_name, "count");
    assert_eq!(offset.page_size.value, 100);
    assert_eq!(offset.offset_parameter_name, "offset");
    let end_condition = offset.end_condition.as_ref().expect("end condition");
    assert_eq!(end_condition.path_text, "$.hasMore");
    assert_eq!(end_condition.expected_value, json!(false));
    let Some(Schedule::Basic {
        start_name,
        end_name,
        start_format,
        ..
    }) = &fetch_config.schedule
    else {
        panic!("expected a basic schedule");
    };
    assert_eq!(
        (start_name.as_str(), end_name.as_str()),
        ("since_last_changed", "before_last_changed")
    );
    let window_start: jiff::Timestamp = "2021-10-05T07:04:09.1234567Z".parse().unwrap();
    assert_eq!(
        start_format.render(window_start),
        "2021-10-05T07:04:09:1234567Z"
    );
}

#[test]
fn legacy_beta_forms_resolve_like_current_ones() {
    let fetch_config = resolve("legacy_beta_forms.json");
    assert_eq!(
        fetch_config.url.host.as_deref(),
        Some("https://{{domain}}.api.mailchimp.com")
    );
    assert_eq!(fetch_config.url.method, HttpMethod::Get);
    assert_eq!(
        fetch_config.query_params,
        named(&[
            ("exclude_fields", "_links"),
            ("fields", "members.email_address"),
            ("status", "${status}")
        ])
    );
    assert_eq!(
        fetch_config.header_params,
        named(&[
            ("Content-Type", "application/json"),
            ("userHeader", "{{userHeaderValue}}")
        ])
    );
    assert_eq!(fetch_config.content_path.path_text, "members");
    let Pagination::Offset(offset) = &fetch_config.pagination else {
        panic!("expected OFFSET");
    };
    assert_eq!(offset.offset_parameter_name, "offset");
    assert_eq!(offset.page_size.value, 100);
    assert_eq!(fetch_config.pacing.delay_request_millis, 250);
    assert_eq!(fetch_config.pacing.maximum_request, Some(40));
    let Some(Schedule::Basic { start_format, .. }) = &fetch_config.schedule else {
        panic!("expected a basic schedule");
    };
    assert_eq!(start_format.as_str(), "yyyy-MM-ddTHH:mm:ssK");
}

#[test]
fn zendesk_resolves_continuation_token_and_advance_schedule() {
    let fetch_config = resolve("zendesk_continuation_token_advance_schedule.json");
    assert_eq!(fetch_config.url.host, None);
    assert_eq!(
        fetch_config.query_params,
        named(&[("query", "{SCHEDULE_QUERY}"), ("filter[type]", "user")])
    );
    let Pagination::ContinuationToken(token) = &fetch_config.pagination else {
        panic!("expected CONTINUATION_TOKEN");
    };
    assert_eq!(token.token_path_text, "$.meta.after_cursor");
    assert_eq!(token.parameter_name, "page[after]");
    assert_eq!(token.parameter_location, TokenParameterLocation::QueryParam);
    assert_eq!(fetch_config.pacing.delay_request_millis, 850);
    let Some(Schedule::Advance {
        format,
        incremental,
        backfill,
    }) = &fetch_config.schedule
    else {
        panic!("expected an ADVANCE schedule");
    };
    assert_eq!(format.as_str(), "yyyy-MM-ddTHH:mm:ssK");
    assert!(incremental.contains("{START_TIME}"));
    assert_eq!(backfill, "type:user updated < {END_TIME}");
    assert!(fetch_config.schema.is_some());
    assert!(matches!(
        fetch_config.content_path.attribute_filter,
        AttributeFilter::Keep(_)
    ));
}

#[test]
fn page_pagination_defaults_and_header_end_index() {
    let with_header = resolve("pagination_page_header_end_index.json");
    let Pagination::Page(page) = &with_header.pagination else {
        panic!("expected PAGE");
    };
    assert_eq!(page.initial_page_index, 1);
    assert_eq!(
        page.end_page_index,
        Some(EndPageIndex::ResponseHeader("x-pagecount".into()))
    );
    assert_eq!(with_header.pacing.maximum_request, Some(500));

    let with_defaults = resolve("pagination_page_defaults.json");
    let Pagination::Page(page) = &with_defaults.pagination else {
        panic!("expected PAGE");
    };
    assert_eq!(page.initial_page_index, 0);
    assert_eq!(page.page_size, None);
    assert_eq!(page.end_page_index, Some(EndPageIndex::Fixed(20)));
    assert_eq!(with_defaults.pacing.maximum_request, Some(10_000));
    assert!(with_defaults.pacing.maximum_request_is_default);
    assert!(!with_header.pacing.maximum_request_is_default);
}

#[test]
fn pointer_path_without_dollar_and_post_body() {
    let pointer = resolve("pagination_pointer_name_without_dollar.json");
    let Pagination::Pointer(pointer_pagination) = &pointer.pagination else {
        panic!("expected POINTER");
    };
    let response = json!({"paging": {"next": "https://api.example.com/page/2"}});
    assert_eq!(
        pointer_pagination.pointer_path.query(&response).all(),
        [&json!("https://api.example.com/page/2")]
    );

    let post = resolve("pagination_none_post_body.json");
    assert_eq!(post.url.method, HttpMethod::Post);
    assert_eq!(post.pagination, Pagination::None);
    assert_eq!(post.body.as_ref().unwrap()["limit"], json!(1000));
    let get_with_body = resolve("pagination_absent_means_none.json");
    assert_eq!(get_with_body.pagination, Pagination::None);
    assert_eq!(get_with_body.body, None);
}

#[test]
fn template_shape_takes_the_fetch_config_from_source_params() {
    let template = fixture("generic_template_fetch_schema_in_source_spec.json");
    assert_eq!(
        source_shape(&template),
        SourceShape::GenericTemplate {
            fetch_config_schema_pointer: "/sourceSpec/spec".into()
        }
    );
    let under_attributes = fixture("generic_template_fetch_schema_under_attributes.json");
    assert_eq!(
        source_shape(&under_attributes),
        SourceShape::GenericTemplate {
            fetch_config_schema_pointer: "/sourceSpec/attributes/spec".into()
        }
    );
    let source_params = json!({
        "urlParams": {"path": "/v1/items", "method": "GET"},
        "contentPath": {"path": "$.items"},
        "paginationParams": {"type": "POINTER", "limitName": "limit", "limitValue": "10",
                             "pointerPath": "$.next"}
    });
    let fetch_config = resolve_source_fetch_config(&template, &source_params).expect("resolves");
    assert_eq!(fetch_config.url.path, "/v1/items");
    let bad_params = json!({"urlParams": {"path": "/v1/${undeclared}"}});
    let problems = resolve_source_fetch_config(&template, &bad_params).unwrap_err();
    let pointers: Vec<&str> = problems
        .iter()
        .map(|problem| problem.pointer.as_str())
        .collect();
    assert_eq!(pointers, ["/params/urlParams/path", "/params/contentPath"]);
}
