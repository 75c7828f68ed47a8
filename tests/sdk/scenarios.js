// Drives the Particle Cloud simulator with Particle's own JavaScript SDK.
//
// Usage: node scenarios.js <scenario>
// Reads SIM_BASE_URL, SIM_TOKEN, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_PRODUCT,
// SIM_USERNAME, SIM_PASSWORD and SIM_DEVICE from the environment and prints one
// line of JSON: what the SDK resolved with, or the error object it rejected with.
"use strict";

const Particle = require("particle-api-js");

const env = process.env;
const baseUrl = env.SIM_BASE_URL;
const auth = env.SIM_TOKEN;
const deviceId = env.SIM_DEVICE;
const product = env.SIM_PRODUCT;
const WAIT_MS = 10000;

const particle = new Particle({
  baseUrl,
  clientId: env.SIM_CLIENT_ID,
  clientSecret: env.SIM_CLIENT_SECRET,
});

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function nextEvent(stream, name) {
  return withTimeout(
    new Promise((resolve) => {
      stream.on("event", (event) => {
        if (event.name === name) resolve(event);
      });
    }),
    `event ${name}`
  );
}

function control(path, body = {}) {
  return fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  }).then((response) => response.json());
}

// What an SDK error object carries, minus the Node response object.
function errorShape(error) {
  return {
    statusCode: error.statusCode,
    errorDescription: error.errorDescription,
    shortErrorDescription: error.shortErrorDescription,
    body: error.body,
  };
}

const scenarios = {
  async stream_receives_published_event() {
    const stream = await particle.getEventStream({ deviceId: "mine", auth });
    const received = nextEvent(stream, "sdk-test");
    await particle.publishEvent({ name: "sdk-test", data: "hello", isPrivate: true, auth });
    const event = await received;
    stream.abort();
    return event;
  },

  async product_stream_receives_press() {
    const stream = await particle.getEventStream({ product, name: "photo", auth });
    const received = nextEvent(stream, "photo");
    await control(`/sim/devices/${deviceId}/press`);
    const event = await received;
    stream.abort();
    return event;
  },

  // A clean end of the body: the SDK sees 'end' and reconnects after 2 s. (After an
  // abrupt cut it notices only when its 15 s idle timer fires.)
  async stream_reconnects_after_clean_drop() {
    const stream = await particle.getEventStream({ deviceId: "mine", auth });
    const reconnected = withTimeout(
      new Promise((resolve) => stream.once("reconnect-success", resolve)),
      "reconnect-success"
    );
    await control("/sim/streams/drop", { clean: true });
    await reconnected;
    const received = nextEvent(stream, "after-drop");
    await particle.publishEvent({ name: "after-drop", data: "again", auth });
    const event = await received;
    stream.abort();
    return event;
  },

  async stream_rejects_bad_token() {
    return particle.getEventStream({ deviceId: "mine", auth: "not-a-token" });
  },

  async publish_event() {
    return particle.publishEvent({ name: "sdk-publish", data: "x", auth });
  },

  async call_function() {
    return particle.callFunction({ deviceId, name: "rainbow", argument: "go", auth });
  },

  async call_function_on_product() {
    return particle.callFunction({ deviceId, name: "led", argument: "red", product, auth });
  },

  async call_missing_function() {
    return particle.callFunction({ deviceId, name: "nothere", argument: "", auth });
  },

  async get_variable() {
    return particle.getVariable({ deviceId, name: "firmware", auth });
  },

  async get_device() {
    return particle.getDevice({ deviceId, auth });
  },

  async get_device_bad_token() {
    return particle.getDevice({ deviceId, auth: "not-a-token" });
  },

  async list_devices() {
    return particle.listDevices({ auth });
  },

  async list_product_devices() {
    return particle.listDevices({ product, perPage: 2, auth });
  },

  async login() {
    // The SDK's own default OAuth client, particle-api, as a developer would use it.
    const developer = new Particle({ baseUrl });
    const login = await developer.login({ username: env.SIM_USERNAME, password: env.SIM_PASSWORD });
    const devices = await particle.listDevices({ auth: login.body.access_token });
    return { login: login.body, deviceCount: devices.body.length };
  },

  async login_bad_password() {
    return particle.login({ username: env.SIM_USERNAME, password: "wrong" });
  },

  async login_as_client_owner() {
    const login = await particle.loginAsClientOwner();
    const devices = await particle.listDevices({ product, auth: login.body.access_token });
    return { login: login.body, deviceCount: devices.body.devices.length };
  },

  async create_customer() {
    const created = await particle.createCustomer({
      email: "sdk.customer@example.com",
      password: "customer-password",
      product,
    });
    const devices = await particle.listDevices({ auth: created.body.access_token });
    return { created, devices: devices.body };
  },

  async get_claim_code() {
    return particle.getClaimCode({ auth });
  },

  async create_integration() {
    return particle.createIntegration({
      event: "photo",
      settings: { integration_type: "Webhook", url: "http://127.0.0.1:9/hook", requestType: "POST" },
      auth,
    });
  },

  async delete_current_token() {
    const login = await particle.login({ username: env.SIM_USERNAME, password: env.SIM_PASSWORD });
    const token = login.body.access_token;
    await particle.deleteCurrentAccessToken({ auth: token });
    return particle.listDevices({ auth: token });
  },
};

async function main() {
  const name = process.argv[2];
  const scenario = scenarios[name];
  if (!scenario) {
    console.error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(", ")}`);
    process.exit(2);
  }

  let outcome;
  try {
    outcome = { resolved: await scenario() };
  } catch (error) {
    outcome = { rejected: errorShape(error), message: String(error && error.message) };
  }
  process.stdout.write(JSON.stringify(outcome) + "\n");
  // Streams and keep-alive agents may hold the loop open; the answer is out.
  process.exit(0);
}

main();
