"""The operator tools: the operations view, the error queue, the broker's accounts, permissions and
policies, the AsyncAPI document. They read the registers through the runtime's reader and never
import the command line nor the simulation kit."""
