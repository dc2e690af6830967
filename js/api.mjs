// The package's public surface over the wasm exports (the same for the Node and the web
// build): `VoxClient` adds `iterateLeads` as an async generator; everything else forwards.

export function buildApi(wasm) {
  const VoxError = wasm.voxErrorClass();

  class VoxClient {
    #core;

    constructor(options) {
      this.#core = new wasm.VoxClientCore(options);
    }

    get projectId() {
      return this.#core.projectId;
    }

    get baseUrl() {
      return this.#core.baseUrl;
    }

    initiateLead(lead, options) {
      return this.#core.initiateLead(lead, options);
    }

    initiateExistingLead(leadId, options) {
      return this.#core.initiateExistingLead(leadId, options);
    }

    bulkInitiateLeads(leads, options) {
      return this.#core.bulkInitiateLeads(leads, options);
    }

    bulkInitiateExisting(leadIds, options) {
      return this.#core.bulkInitiateExisting(leadIds, options);
    }

    updateLead(target, changes, options) {
      return this.#core.updateLead(target, changes, options);
    }

    getLead(target, options) {
      return this.#core.getLead(target, options);
    }

    queryLeads(query, options) {
      return this.#core.queryLeads(query, options);
    }

    async *iterateLeads(query, options) {
      const pager = this.#core.pager(query, options);
      try {
        for (;;) {
          const leads = await pager.next();
          if (leads === null) return;
          yield* leads;
        }
      } finally {
        pager.free();
      }
    }

    getActivity(activityId, options) {
      return this.#core.getActivity(activityId, options);
    }

    toString() {
      return `VoxClient(${this.projectId})`;
    }

    toJSON() {
      return { projectId: this.projectId, baseUrl: this.baseUrl };
    }
  }

  return {
    VoxClient,
    VoxError,
    validatePhone: wasm.validatePhone,
    validatePhones: wasm.validatePhones,
    normalizePhone: wasm.normalizePhone,
    maskPhone: wasm.maskPhone,
    validateLead: wasm.validateLead,
  };
}
