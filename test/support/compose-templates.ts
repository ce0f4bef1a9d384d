/** Small apps on the local busybox test image, as Hive would send them. */

/** A static site: writes a page into its app volume and serves it on a loopback port. */
export function staticSiteTemplate(extra = ''): string {
  return `
x-mosaic:
  commands:
    read-page:
      service: web
      argv: ["cat", "/data/index.html"]
    environ:
      service: web
      argv: ["cat", "/proc/1/environ"]
    show-file:
      service: web
      argv: ["cat", "{{path}}"]
      args:
        path: { pattern: "^/data/[a-z.]{1,32}$" }
    echo:
      service: web
      argv: ["echo", "{{text}}"]
      timeoutSeconds: 10
    slow:
      service: web
      argv: ["sleep", "{{seconds}}"]
      args:
        seconds: { pattern: "^[0-9]{1,2}$" }
      timeoutSeconds: 1
services:
  web:
    image: mosaic-test/busybox
    command: ["sh", "-c", "echo \\"hello from $$APP_INSTANCE\\" > /data/index.html && exec httpd -f -p 8080 -h /data"]
    environment:
      APP_INSTANCE: \${APP_INSTANCE}
      ADMIN_EMAIL: \${ADMIN_EMAIL:-}
      LEAK: \${DEVICE_PASSPHRASE:-nothing}
      LINK_DOMAIN: \${LINK_DOMAIN_DEFAULT}
    ports: ["127.0.0.1::8080"]
    stop_grace_period: 1s
    volumes:
      - data:/data
${extra}
volumes:
  data:
    external: true
    name: \${APP_VOLUME_NAME}
`;
}

export function startParams(instance: string, compose: string, variables: Record<string, string> = {}, failover = false) {
  return {
    instance,
    application: { appstore: 'Mosaic Test', name: 'static-site', version: '1.0.0' },
    compose,
    links: { default: { domain: 'brave-otter.example.net', token: 'link-token-secret' } },
    variables,
    failover,
  };
}
