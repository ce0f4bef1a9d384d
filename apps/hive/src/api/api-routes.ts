/** Every REST route lives under /api, so the gateway's /socket.io path and the API never meet. */
export const API_PREFIX = 'api';
