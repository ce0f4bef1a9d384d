import { api, call, messageOf } from '../api';
import { Alert, useLoad } from '../components/ui';
import { href } from '../router';

export function CatalogPage() {
  const catalog = useLoad(() => call(api.GET('/api/catalog')), []);
  return (
    <>
      <h1>Catalog</h1>
      {catalog.error !== undefined && <Alert>{messageOf(catalog.error)}</Alert>}
      <ul className="cards" aria-label="Catalog apps">
        {catalog.data?.map((app) => (
          <li key={app.name} className="card">
            <h2>{app.title}</h2>
            <p>{app.description}</p>
            <p className="hint">
              Version {app.version}
              {app.offline ? '' : ' · downloads its images'}
            </p>
            <a className="button primary" href={href('catalog', app.name)} aria-label={`Install ${app.title}`}>
              Install
            </a>
          </li>
        ))}
      </ul>
    </>
  );
}
