// Who uses the demo: two people, each on a device of their own, signing in to
// the shared database of inspections as themselves. Read by the page and by
// `scripts/demo-setup.mjs`, which makes them users of the server and members
// of the database. Demo passwords, shown on purpose: the demo server listens
// on loopback only.
export const DATABASE = 'inspections';

export const DEVICES = [
  {
    name: 'device-a', label: 'Device A', person: 'Agnes', author: { id: 'agnes', role: 'inspector' },
    user: { name: 'agnes', password: 'agnes-demo' },
  },
  {
    name: 'device-b', label: 'Device B', person: 'Joe', author: { id: 'joe', role: 'supervisor' },
    user: { name: 'joe', password: 'joe-demo' },
  },
];

/** The `Authorization` header a device signs its requests with. */
export const authorization = ({ name, password }) => `Basic ${btoa(`${name}:${password}`)}`;
