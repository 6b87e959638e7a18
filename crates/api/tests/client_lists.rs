//! Lists as AEP client libraries page them: every list (and search) of Flow Service walked with
//! `limit=1` through `_links.next.href`, the token cut out the crude way (everything after the
//! first `=`), visits each item once; `_links` is on every page; `count` and other booleans in
//! any case; quoted filter values in every form.

mod common;

use std::collections::BTreeSet;

use common::world::World;
use serde_json::{Value, json};

/// Every list of Flow Service.
const LISTS: [&str; 7] = [
    "/connections",
    "/connectionSpecs",
    "/sourceConnections",
    "/targetConnections",
    "/flows",
    "/flowSpecs",
    "/runs",
];

/// The token of a next link, as a client that splits at the first `=` reads it.
fn crude_token(href: &str) -> &str {
    href.split_once('=').expect("a next link with a token").1
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {page}"))
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_list_walked_one_item_a_page_through_crudely_cut_tokens_visits_each_item_once() {
    let world = World::build().await;
    let (app, caller) = (&world.app, &world.caller);
    for list in LISTS {
        let all = ids(&app.get(caller, list).await.body);
        assert!(all.len() >= 2, "{list}: {all:?}");
        let mut seen = Vec::new();
        let mut page = app.get(caller, &format!("{list}?limit=1")).await.body;
        loop {
            assert!(page["_links"].is_object(), "{list}: no _links on {page}");
            seen.extend(ids(&page));
            let Some(href) = page["_links"]["next"]["href"].as_str() else {
                break;
            };
            assert!(
                href.starts_with(&format!("{list}?continuationToken=")),
                "{href}"
            );
            let token = crude_token(href);
            assert!(!token.contains(['=', '&', '+']), "{token}");
            page = app
                .get(caller, &format!("{list}?continuationToken={token}"))
                .await
                .body;
        }
        assert_eq!(seen.len(), all.len(), "{list}: {seen:?}");
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), all.len(), "{list}: an item twice in {seen:?}");
    }
}

#[tokio::test]
async fn a_token_remembers_the_filters_and_order_of_its_query_and_searches_page_the_same_way() {
    let world = World::build().await;
    let (app, caller) = (&world.app, &world.caller);
    // Two enabled flows, by name descending, one a page: the token alone brings back the rest.
    let first = app
        .get(
            caller,
            "/flows?property=state==enabled&orderby=-name&limit=1",
        )
        .await
        .body;
    let href = first["_links"]["next"]["href"].as_str().unwrap();
    let second = app
        .get(
            caller,
            &format!("/flows?continuationToken={}", crude_token(href)),
        )
        .await
        .body;
    let names = [&first, &second].map(|page| page["items"][0]["name"].clone());
    assert_eq!(
        names,
        [json!("spare dataflow"), json!("MailChimp Members dataflow")]
    );
    assert_eq!(second["_links"], json!({}), "no page after the last");

    // A search pages at its own path; POSTing to the next link continues it.
    let mut seen = Vec::new();
    let mut page = app
        .post(
            caller,
            "/flows/search",
            &json!({"limit": 1, "orderby": "name"}),
        )
        .await
        .body;
    loop {
        seen.extend(ids(&page));
        let Some(href) = page["_links"]["next"]["href"].as_str() else {
            break;
        };
        assert!(
            href.starts_with("/flows/search?continuationToken="),
            "{href}"
        );
        page = app
            .post(
                caller,
                &format!("/flows/search?continuationToken={}", crude_token(href)),
                &json!({}),
            )
            .await
            .body;
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
}

#[tokio::test]
async fn booleans_are_read_in_any_case() {
    let world = World::build().await;
    let (app, caller) = (&world.app, &world.caller);
    for list in LISTS {
        let total = ids(&app.get(caller, list).await.body).len();
        for spelling in ["true", "True", "TRUE"] {
            let counted = app.get(caller, &format!("{list}?count={spelling}")).await;
            assert_eq!(
                counted.body,
                json!({"count": total}),
                "{list}?count={spelling}"
            );
        }
        for spelling in ["false", "False", "FALSE"] {
            let listed = app.get(caller, &format!("{list}?count={spelling}")).await;
            assert_eq!(ids(&listed.body).len(), total, "{list}?count={spelling}");
        }
        let refused = app.get(caller, &format!("{list}?count=yes")).await;
        common::assert_flow_error(&refused, "1100-400");
    }
    let explore = |preview: &str| {
        format!(
            "/connections/{}/explore?objectType=rest&object=json&fileType=json&preview={preview}&sourceParams={}",
            world.connection_id,
            common::world::source_params()
        )
    };
    for spelling in ["true", "True"] {
        let previewed = app.get(caller, &explore(spelling)).await;
        assert!(previewed.body["data"].is_array(), "{}", previewed.body);
    }
    for spelling in ["false", "FALSE"] {
        let described = app.get(caller, &explore(spelling)).await;
        assert!(described.body.get("data").is_none(), "{}", described.body);
        assert!(described.body["schema"]["columns"].is_array());
    }
}

#[tokio::test]
async fn quoted_filter_values_match_in_every_form() {
    let world = World::build().await;
    let (app, caller) = (&world.app, &world.caller);
    let forms = [
        "name==MailChimp%20Members%20dataflow",
        "name==\"MailChimp Members dataflow\"",
        "name=='MailChimp Members dataflow'",
        "name==%22MailChimp%20Members%20dataflow%22",
        "name==%27MailChimp%20Members%20dataflow%27",
        "name==\"MailChimp Members dataflow\",'spare dataflow'",
    ];
    for form in forms {
        // Spaces percent-encoded, quotes as written (the router's URI parser refuses a raw `"`
        // in a request built here; raw quotes on the wire are tested against `flowd serve`).
        let target = format!(
            "/flows?property={}",
            form.replace(' ', "%20").replace('"', "%22")
        );
        let found = ids(&app.get(caller, &target).await.body);
        assert!(found.contains(&world.flow_id), "{form}: {found:?}");
    }
    let not_equal = ids(&app
        .get(
            caller,
            "/flows?property=name!=%22MailChimp%20Members%20dataflow%22",
        )
        .await
        .body);
    assert_eq!(not_equal, std::slice::from_ref(&world.spare_flow_id));
    let search = app
        .post(
            caller,
            "/flows/search",
            &json!({"queryString": "name==\"spare dataflow\""}),
        )
        .await;
    assert_eq!(
        ids(&search.body),
        std::slice::from_ref(&world.spare_flow_id)
    );
}
