//! The router builder every route module uses: axum's `Router` and method routers, with the
//! same shape (`Routes::new().route(path, get(a).post(b))`, `merge`, `nest`), that also
//! record each (method, path) they serve. The record is what `/openapi.json` is checked
//! against (`crates/api/tests/openapi_document.rs`): a route cannot be served without being
//! listed, because listing it is how it is served.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::MethodRouter;

use crate::state::AppState;

/// One served operation: its method and its path (axum's syntax, `{id}` for a parameter).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServedRoute {
    pub method: Method,
    pub path: String,
}

/// Routes under construction, with the operations they serve.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    served: Vec<ServedRoute>,
}

impl Routes {
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Serves `methods` at `path`.
    pub fn route(mut self, path: &str, methods: Methods) -> Routes {
        self.served
            .extend(methods.methods.iter().map(|method| ServedRoute {
                method: method.clone(),
                path: path.to_owned(),
            }));
        self.router = self.router.route(path, methods.router);
        self
    }

    /// Serves `other`'s routes beside these.
    pub fn merge(mut self, other: Routes) -> Routes {
        self.served.extend(other.served);
        self.router = self.router.merge(other.router);
        self
    }

    /// Serves `other`'s routes under `prefix`.
    pub fn nest(mut self, prefix: &str, other: Routes) -> Routes {
        self.served
            .extend(other.served.into_iter().map(|route| ServedRoute {
                method: route.method,
                path: format!("{prefix}{}", route.path),
            }));
        self.router = self.router.nest(prefix, other.router);
        self
    }

    /// The operations served, sorted by path then method.
    pub fn served(&self) -> Vec<ServedRoute> {
        let mut served = self.served.clone();
        served.sort_by(|left, right| {
            (&left.path, left.method.as_str()).cmp(&(&right.path, right.method.as_str()))
        });
        served
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// The handlers of one path, by method.
#[derive(Clone)]
pub struct Methods {
    methods: Vec<Method>,
    router: MethodRouter<AppState>,
}

macro_rules! method_routing {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            #[doc = concat!("Serves `handler` for `", stringify!($method), "` requests.")]
            pub fn $name<H, T>(handler: H) -> Methods
            where
                H: Handler<T, AppState>,
                T: 'static,
            {
                Methods {
                    methods: vec![Method::$method],
                    router: axum::routing::$name(handler),
                }
            }
        )*

        impl Methods {
            $(
                #[doc = concat!("Also serves `handler` for `", stringify!($method), "` requests.")]
                pub fn $name<H, T>(mut self, handler: H) -> Methods
                where
                    H: Handler<T, AppState>,
                    T: 'static,
                {
                    self.methods.push(Method::$method);
                    self.router = self.router.$name(handler);
                    self
                }
            )*
        }
    };
}

method_routing!(get => GET, post => POST, put => PUT, patch => PATCH, delete => DELETE);
