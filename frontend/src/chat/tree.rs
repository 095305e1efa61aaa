//! A conversation is a tree: a regenerated answer is a sibling of the one it replaces. The
//! transcript shows one path through it, from the oldest loaded message to a leaf. Pure: ids,
//! parents and creation order only; the messages themselves live with the view. The app's
//! trees hold [`MessageId`]s; the tests' hold names.

use std::collections::HashMap;
use std::hash::Hash;

use shared::MessageId;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Node<Id> {
    parent: Option<Id>,
    /// Creation order: (milliseconds, id). Ids are UUIDv7, so they break ties in time order.
    order: (i64, Id),
}

#[derive(Debug, Clone)]
pub struct Tree<Id = MessageId> {
    nodes: HashMap<Id, Node<Id>>,
    /// Children of each parent (`None`: the conversation's first messages), oldest first.
    children: HashMap<Option<Id>, Vec<Id>>,
}

impl<Id> Default for Tree<Id> {
    fn default() -> Self {
        Self {
            nodes: HashMap::new(),
            children: HashMap::new(),
        }
    }
}

impl<Id: Copy + Eq + Hash + Ord> Tree<Id> {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Adds a message; adding one twice changes nothing.
    pub fn insert(&mut self, id: Id, parent: Option<Id>, created_ms: i64) {
        if self.nodes.contains_key(&id) {
            return;
        }
        let order = (created_ms, id);
        let siblings = self.children.entry(parent).or_default();
        let at = siblings
            .iter()
            .position(|s| self.nodes.get(s).is_some_and(|n| n.order > order))
            .unwrap_or(siblings.len());
        siblings.insert(at, id);
        self.nodes.insert(id, Node { parent, order });
    }

    pub fn parent(&self, id: Id) -> Option<Id> {
        self.nodes.get(&id)?.parent
    }

    /// The most recently created message: where a conversation opens.
    pub fn newest(&self) -> Option<Id> {
        self.nodes
            .iter()
            .max_by(|a, b| a.1.order.cmp(&b.1.order))
            .map(|(id, _)| *id)
    }

    /// From the oldest loaded ancestor down to `leaf`. A parent not loaded yet (an older page)
    /// ends the walk; the path grows when it arrives.
    pub fn path_to(&self, leaf: Id) -> Vec<Id> {
        let mut path = Vec::new();
        let mut at = Some(leaf);
        while let Some(id) = at {
            if !self.nodes.contains_key(&id) || path.len() > self.nodes.len() {
                break;
            }
            path.push(id);
            at = self.parent(id);
        }
        path.reverse();
        path
    }

    /// `(position, count)` among the message's siblings, 1-based: "2 / 3".
    pub fn position(&self, id: Id) -> (usize, usize) {
        let Some(node) = self.nodes.get(&id) else {
            return (1, 1);
        };
        let siblings = &self.children[&node.parent];
        let at = siblings.iter().position(|s| *s == id).unwrap_or(0);
        (at + 1, siblings.len())
    }

    /// The sibling `step` places away (-1 previous, +1 next), if there is one.
    pub fn sibling(&self, id: Id, step: isize) -> Option<Id> {
        let node = self.nodes.get(&id)?;
        let siblings = self.children.get(&node.parent)?;
        let at = siblings.iter().position(|s| *s == id)? as isize + step;
        usize::try_from(at)
            .ok()
            .and_then(|i| siblings.get(i))
            .copied()
    }

    /// Where to land when switching to `id`: down its newest children to a leaf.
    pub fn newest_leaf_under(&self, mut id: Id) -> Id {
        for _ in 0..=self.nodes.len() {
            match self.children.get(&Some(id)).and_then(|c| c.last()) {
                Some(child) => id = *child,
                None => break,
            }
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// q1 → a1, a2 (regenerated) ; a1 → q2 → a3
    fn sample() -> Tree<&'static str> {
        let mut t = Tree::default();
        t.insert("q1", None, 1);
        t.insert("a1", Some("q1"), 2);
        t.insert("q2", Some("a1"), 3);
        t.insert("a3", Some("q2"), 4);
        t.insert("a2", Some("q1"), 5);
        t
    }

    #[test]
    fn opens_on_the_branch_written_last() {
        let t = sample();
        assert_eq!(t.newest(), Some("a2"));
        assert_eq!(t.path_to("a2"), ["q1", "a2"]);
        assert_eq!(t.path_to("a3"), ["q1", "a1", "q2", "a3"]);
    }

    #[test]
    fn siblings_are_counted_and_stepped_through_in_creation_order() {
        let t = sample();
        assert_eq!(t.position("a1"), (1, 2));
        assert_eq!(t.position("a2"), (2, 2));
        assert_eq!(t.sibling("a2", -1), Some("a1"));
        assert_eq!(t.sibling("a1", -1), None);
        assert_eq!(t.sibling("a1", 1), Some("a2"));
        assert_eq!(t.sibling("a2", 1), None);
        assert_eq!(t.position("q1"), (1, 1));
    }

    #[test]
    fn switching_to_a_sibling_lands_on_its_newest_leaf() {
        let t = sample();
        assert_eq!(t.newest_leaf_under("a1"), "a3");
        assert_eq!(t.newest_leaf_under("a2"), "a2");
    }

    #[test]
    fn a_page_of_newer_messages_shows_until_its_ancestors_arrive() {
        let mut t = Tree::<&str>::default();
        t.insert("q2", Some("a1"), 3);
        t.insert("a3", Some("q2"), 4);
        assert_eq!(t.path_to("a3"), ["q2", "a3"]);
        t.insert("a1", Some("q1"), 2);
        t.insert("q1", None, 1);
        assert_eq!(t.path_to("a3"), ["q1", "a1", "q2", "a3"]);
    }

    #[test]
    fn inserting_twice_or_out_of_order_keeps_one_ordered_copy() {
        let mut t = Tree::<&str>::default();
        t.insert("b", Some("q"), 20);
        t.insert("a", Some("q"), 10);
        t.insert("b", Some("q"), 20);
        assert_eq!(t.len(), 2);
        assert_eq!(t.position("a"), (1, 2));
        assert_eq!(t.position("b"), (2, 2));
        // Equal times fall back to the (time-ordered) id.
        t.insert("c", Some("q"), 20);
        assert_eq!(t.position("c"), (3, 3));
    }

    #[test]
    fn a_cycle_in_bad_data_cannot_hang_the_walk() {
        let mut t = Tree::<&str>::default();
        t.insert("x", Some("y"), 1);
        t.insert("y", Some("x"), 2);
        assert!(t.path_to("x").len() <= 3);
        let _ = t.newest_leaf_under("x");
    }
}
