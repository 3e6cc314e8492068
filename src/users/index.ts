// Scale-test users: the pool (create-users) and the one way a load type borrows its users (./pool.ts).
export { selectPoolUsers, listPoolUsers, leaseUsers, checkPoolId, usablePoolUser, UserPoolError, type LeasedUser, type UserLease, type TokenCounts } from "./pool.ts";
export { planCreateUsers, executeCreateUsers, checkCreateUsersOptions, templateAdminCount, CreateUsersInputError, type CreateUsersOptions, type CreateUsersResult } from "./create-users.ts";
export { createUsersRunner, createUsersPhaseResult } from "./phase.ts";
