//! Where the replies to clients' requests go, while the requests are in flight.
//!
//! A request comes from a connection to this process, or from a follower that forwarded it
//! (the follower keeps the route to its own connection). The node answers by client id
//! ([`crate::service::Reply`]), or a registration by its nonce (at least 2^56, so never a
//! client id, which is a log index: §6.3); the route says where that answer goes. A client id has one
//! request in flight at a time (stage 6's sessions, §6.3), so a route serves one reply and
//! is then forgotten: the next request of that client sets it again.
//!
//! A route whose reply never comes (the leader that held the request crashed, a forwarded
//! request was lost on the way) is forgotten after [`ROUTE_TTL`], long after the client
//! stopped waiting ([`crate::client::REQUEST_DEADLINE`]). So the table holds at most the
//! requests of the last [`ROUTE_TTL`], however many connections came and went.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::client::REQUEST_DEADLINE;
use crate::service::ClientId;

/// How long a route waits for its reply: twice the time a client waits for one.
pub const ROUTE_TTL: Duration = Duration::from_secs(2 * REQUEST_DEADLINE.as_secs());

/// The routes of the requests in flight, by client id.
#[derive(Debug)]
pub struct Routes<R> {
    by_client: HashMap<ClientId, (R, Instant)>,
    /// When [`Routes::expire`] last swept the table.
    swept: Instant,
}

impl<R> Routes<R> {
    /// An empty table.
    pub fn new(now: Instant) -> Routes<R> {
        Routes { by_client: HashMap::new(), swept: now }
    }

    /// `client`'s request, arrived at `now`, is answered through `route`.
    pub fn insert(&mut self, client: ClientId, route: R, now: Instant) {
        self.by_client.insert(client, (route, now));
    }

    /// The route of `client`'s reply, forgotten: a reply is sent once.
    pub fn take(&mut self, client: ClientId) -> Option<R> {
        self.by_client.remove(&client).map(|(route, _)| route)
    }

    /// Forgets the routes older than [`ROUTE_TTL`]: their clients gave up. Sweeps the table at
    /// most once a second.
    pub fn expire(&mut self, now: Instant) {
        if now.duration_since(self.swept) < Duration::from_secs(1) {
            return;
        }
        self.swept = now;
        self.by_client.retain(|_, (_, since)| now.duration_since(*since) < ROUTE_TTL);
    }

    /// How many routes wait for a reply.
    pub fn len(&self) -> usize {
        self.by_client.len()
    }

    /// True if no route waits.
    pub fn is_empty(&self) -> bool {
        self.by_client.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A route serves one reply; a second reply for the same request finds none.
    #[test]
    fn a_route_serves_one_reply() {
        let now = Instant::now();
        let mut routes = Routes::new(now);
        routes.insert(7, "connection a", now);
        assert_eq!(routes.take(7), Some("connection a"));
        assert_eq!(routes.take(7), None);
        assert!(routes.is_empty());
    }

    /// Routes whose replies never came are forgotten after [`ROUTE_TTL`], the others kept.
    #[test]
    fn routes_without_a_reply_are_forgotten_after_their_time() {
        let start = Instant::now();
        let mut routes = Routes::new(start);
        for client in 0..1000 {
            routes.insert(client, client, start);
        }
        routes.insert(5000, 5000, start + ROUTE_TTL / 2);
        routes.expire(start + ROUTE_TTL / 2 + Duration::from_secs(1));
        assert_eq!(routes.len(), 1001, "nothing expired before its time");
        routes.expire(start + ROUTE_TTL + Duration::from_secs(1));
        assert_eq!(routes.len(), 1, "the thousand old routes expired");
        assert_eq!(routes.take(5000), Some(5000));
    }
}
