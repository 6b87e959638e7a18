//! List continuation under change: a client walks `/connectionSpecs` page by page while
//! specs are created and deleted between its pages. Pages are cut by keyset (the last item's
//! sort value and store position), so no item comes twice and no item that existed
//! throughout the walk is skipped — whether the store answers the page (insertion order,
//! `orderby=createdAt`, `orderby=-name`) or the page is cut in memory (a filter on a dotted
//! path).

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{Caller, TestApp, fixture};
use serde_json::json;

/// Creates a spec named `name`; returns its id.
async fn create(app: &TestApp, caller: &Caller, name: &str) -> String {
    let mut body = fixture("mailchimp_members_create.json");
    body["name"] = json!(name);
    app.create_connection_spec(caller, &body).await
}

/// Every id of `/connectionSpecs?<query>`, page by page with nothing changing.
async fn walk(app: &TestApp, caller: &Caller, query: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut path = format!("/connectionSpecs?{query}&limit=5");
    loop {
        let page = app.get(caller, &path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_owned()),
        );
        match page.body["_links"]["next"]["href"].as_str() {
            Some(next) => path = next.to_owned(),
            None => return seen,
        }
    }
}

/// Walks `/connectionSpecs?<query>&limit=3`; before each next page, deletes one spec not yet
/// seen and (every other page) one already seen, and creates one. Returns the ids seen in order, and the ids
/// that existed throughout the walk.
async fn walk_while_changing(
    app: &TestApp,
    caller: &Caller,
    query: &str,
) -> (Vec<String>, Vec<String>) {
    let mut ids = Vec::new();
    for index in 0..15 {
        ids.push(create(app, caller, &format!("spec {index:02}")).await);
    }
    let all_before = walk(app, caller, query).await;
    let mut deleted = BTreeSet::new();
    let mut seen: Vec<String> = Vec::new();
    let mut path = format!("/connectionSpecs?{query}&limit=3");
    let mut created = 0;
    loop {
        let page = app.get(caller, &path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_owned()),
        );
        let Some(next) = page.body["_links"]["next"]["href"].as_str() else {
            break;
        };
        path = next.to_owned();
        // Changes between pages: one unseen and one seen spec go, a new one comes.
        if let Some(unseen) = ids
            .iter()
            .find(|id| !seen.contains(id) && !deleted.contains(*id))
            .cloned()
        {
            assert_eq!(
                app.delete(caller, &format!("/connectionSpecs/{unseen}"))
                    .await
                    .status,
                204
            );
            deleted.insert(unseen);
        }
        if created % 2 == 0
            && let Some(old) = seen
                .iter()
                .find(|id| ids.contains(id) && !deleted.contains(*id))
                .cloned()
        {
            assert_eq!(
                app.delete(caller, &format!("/connectionSpecs/{old}"))
                    .await
                    .status,
                204
            );
            deleted.insert(old);
        }
        ids.push(create(app, caller, &format!("new spec {created:02}")).await);
        created += 1;
        assert!(created < 40, "the walk does not end");
    }
    let throughout = all_before
        .into_iter()
        .filter(|id| !deleted.contains(id))
        .collect();
    (seen, throughout)
}

fn assert_walk(query: &str, seen: &[String], throughout: &[String]) {
    let mut counts: HashMap<&String, usize> = HashMap::new();
    for id in seen {
        *counts.entry(id).or_default() += 1;
    }
    let repeated: Vec<_> = counts.iter().filter(|(_, count)| **count > 1).collect();
    assert!(repeated.is_empty(), "{query}: repeated {repeated:?}");
    let skipped: Vec<_> = throughout.iter().filter(|id| !seen.contains(id)).collect();
    assert!(
        skipped.is_empty(),
        "{query}: skipped {skipped:?} of {throughout:?}; saw {seen:?}"
    );
}

#[tokio::test]
async fn keyset_pages_neither_repeat_nor_skip_while_items_come_and_go() {
    for query in [
        "count=false",
        "orderby=createdAt",
        "orderby=-name",
        "property=attributes.category.key!=nothing",
    ] {
        let app = TestApp::new().await;
        let caller = app.caller();
        let (seen, throughout) = walk_while_changing(&app, &caller, query).await;
        assert!(throughout.len() >= 5, "{query}: {throughout:?}");
        assert_walk(query, &seen, &throughout);
    }
}
