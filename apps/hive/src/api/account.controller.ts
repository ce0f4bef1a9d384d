import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { AccountService, AccountView } from '../accounts/account.service';
import { AdminTokenGuard } from './admin-token.guard';
import { API_PREFIX } from './api-routes';
import { SetPassphraseDto } from './dto/set-passphrase.dto';
import { parseBody } from './request-validation';

@Controller(`${API_PREFIX}/account`)
@UseGuards(AdminTokenGuard)
export class AccountController {
  constructor(private readonly accounts: AccountService) {}

  @Get()
  describe(): AccountView {
    return this.accounts.describe();
  }

  /** The verifier is derived client-side with the salt from GET /api/account; Hive never sees the passphrase. */
  @Put('passphrase')
  setPassphrase(@Body() body: unknown): AccountView {
    const { verifier, replace } = parseBody(SetPassphraseDto, body);
    return this.accounts.setVerifier(verifier, replace ?? false);
  }
}
