//! Commands between services: each a type of casewire-contract, carried as JSON.
//!
//! A sender asks with [`Bus::ask`](crate::Bus::ask); a service answers with [`Handlers`],
//! one function per command. Under both, the transport sees a name and a JSON body.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use casewire_contract::{Command, CommandError, Envelope, ErrorCode};
use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::Value;

/// What a transport hands a service: a command's name and its JSON body.
#[async_trait]
pub trait CommandHandler: Send + Sync + 'static {
    async fn handle(&self, command: &str, body: Value) -> Result<Value, CommandError>;
}

type Route<S> =
    Box<dyn Fn(Arc<S>, Value) -> BoxFuture<'static, Result<Value, CommandError>> + Send + Sync>;

/// A service's commands, each routed by its name to one function of the service's state:
/// `Handlers::new(SERVICE, state).on::<Send>(Commands::send)`.
pub struct Handlers<S> {
    service: &'static str,
    state: Arc<S>,
    routes: HashMap<&'static str, Route<S>>,
}

impl<S: Send + Sync + 'static> Handlers<S> {
    pub fn new(service: &'static str, state: S) -> Self {
        Handlers {
            service,
            state: Arc::new(state),
            routes: HashMap::new(),
        }
    }

    /// Answers `C` with `f`.
    pub fn on<C, F, Fut>(mut self, f: F) -> Self
    where
        C: Command,
        F: Fn(Arc<S>, Envelope<C>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<C::Answer, CommandError>> + Send + 'static,
    {
        assert_eq!(
            C::SERVICE,
            self.service,
            "{} is not {}'s",
            C::NAME,
            self.service
        );
        let f = Arc::new(f);
        let route: Route<S> = Box::new(move |state, body| {
            let f = f.clone();
            async move {
                let answer = f(state, Envelope::parse(body)?).await?;
                serde_json::to_value(answer).map_err(CommandError::internal)
            }
            .boxed()
        });
        assert!(
            self.routes.insert(C::NAME, route).is_none(),
            "{} answered twice",
            C::NAME
        );
        self
    }
}

#[async_trait]
impl<S: Send + Sync + 'static> CommandHandler for Handlers<S> {
    async fn handle(&self, command: &str, body: Value) -> Result<Value, CommandError> {
        let route = self.routes.get(command).ok_or_else(|| {
            CommandError::new(
                ErrorCode::UnknownCommand,
                format!("{} has no command {command}", self.service),
            )
        })?;
        route(self.state.clone(), body).await
    }
}

/// The in-process command registry of the embedded mode.
#[derive(Clone, Default)]
pub(crate) struct Registry {
    handlers: Arc<RwLock<HashMap<String, Arc<dyn CommandHandler>>>>,
}

impl Registry {
    pub(crate) fn register(&self, service: &str, handler: Arc<dyn CommandHandler>) {
        self.handlers
            .write()
            .expect("command registry lock")
            .insert(service.to_string(), handler);
    }

    pub(crate) async fn request(
        &self,
        service: &str,
        command: &str,
        body: Value,
    ) -> Result<Value, CommandError> {
        let handler = self
            .handlers
            .read()
            .expect("command registry lock")
            .get(service)
            .cloned()
            .ok_or_else(|| {
                CommandError::unavailable(format!("no {service} service in this process"))
            })?;
        handler.handle(command, body).await
    }
}
